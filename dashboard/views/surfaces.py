"""Surfaces: for the 2-D surface tasks (rosenbrock, beale, saddle), the optimizers' paths over
the contour of the loss surface — by default the best trial of each optimizer."""

import streamlit as st

from tuner.dashboard import charts, loaders, session, stats
from tuner.dashboard.text import md, number, option
from tuner.tasks import SURFACES

choice = session.current()
st.title("Surfaces")


@st.fragment(run_every=choice.run_every)
def surfaces() -> None:
    view = session.open_study(choice)
    if view is None:
        return
    task = view.info.get("task")
    if task not in SURFACES:
        st.info(f"This study's task ({md(task or 'unknown')}) is not a 2-D surface; surface "
                f"studies ({', '.join(SURFACES)}) show their optimizers' paths here, e.g. "
                "`tuner launch studies/rosenbrock.toml`.")
        return
    surface = SURFACES[task]
    frame = view.trials
    labels = {int(r.number): f"#{r.number} {r.optimizer} lr={number(r.lr, 3)} "
                             f"({r.status.lower()})" for r in frame.itertuples()}
    ranked = stats.ranked_complete(frame, view.direction)
    default = [int(n) for n in ranked.drop_duplicates("optimizer")["number"]]
    # Before any trial completes, another key: the default applies once one has.
    picked = st.multiselect("Trials", list(labels), default=default,
                            key="surface_trials" if default else "surface_trials_early",
                            format_func=lambda n: option(labels.get(n, n)),
                            help="Default: the best complete trial of each optimizer.")
    if not picked:
        st.info("Pick trials to draw their paths.")
        return
    paths = loaders.paths(view.url, view.study_id, tuple(sorted(picked)))
    grid = loaders.surface_grid(task)
    st.caption(md(surface.description))
    st.plotly_chart(charts.surface(grid, paths, labels, minimum=surface.minimum,
                                   start=surface.start),
                    width="stretch", key="surface_chart")
    if paths.empty:
        st.info("These trials recorded no path yet.")


surfaces()
