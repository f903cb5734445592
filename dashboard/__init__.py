"""tuner's Streamlit dashboard (shipped as ``tuner.dashboard``; entry ``app.py``).

Layers, each a small module with one concept:

- :mod:`.data` — storage URL in, tidy DataFrames out (over :mod:`tuner.tables`); no Streamlit.
- :mod:`.live` — a study's trial frame kept current by reading only what changed.
- :mod:`.stats` — derived frames (LR bands, LR × momentum grid, best so far, group summaries).
- :mod:`.charts` — Plotly figures from those frames, every untrusted string HTML-escaped.
- :mod:`.text` — escaping and formatting for Markdown-rendering Streamlit elements.
- :mod:`.loaders` — the Streamlit caches (``cache_resource`` engine, ``cache_data`` reads).
- :mod:`.session` — the sidebar's choices (storage, study, live refresh) and the opened study.
- :mod:`.launch` — :func:`run_dashboard`, what ``tuner dashboard`` calls.
- ``app.py`` and ``views/`` — the Streamlit scripts (the pages).
"""
