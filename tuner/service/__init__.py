"""The tuning service: study specs, search space, objective, storage, worker and launcher.

The only layer that knows Optuna and SQL; it drives the numerical core through its registries.
"""
