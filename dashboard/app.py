"""tuner's dashboard: ``tuner dashboard`` (or ``streamlit run dashboard/app.py``).

Reads the storage from ``$TUNER_STORAGE`` (else ``sqlite:///tuner.db``), read-only. The sidebar
picks the study and the live refresh; the pages show it.
"""

from pathlib import Path

import streamlit as st

st.set_page_config(page_title="tuner dashboard", page_icon=":material/tune:", layout="wide")

from tuner.dashboard import session  # noqa: E402  (page config first)

PAGES = Path(__file__).resolve().parent / "views"

session.sidebar(session.storage_url())
navigation = st.navigation([
    st.Page(PAGES / "studies.py", title="Studies", icon=":material/table_rows:", default=True),
    st.Page(PAGES / "best.py", title="Best configuration", icon=":material/emoji_events:"),
    st.Page(PAGES / "sensitivity.py", title="LR sensitivity", icon=":material/show_chart:"),
    st.Page(PAGES / "curves.py", title="Learning curves", icon=":material/timeline:"),
    st.Page(PAGES / "compare.py", title="Comparisons", icon=":material/bar_chart:"),
    st.Page(PAGES / "surfaces.py", title="Surfaces", icon=":material/landscape:"),
    st.Page(PAGES / "trials.py", title="Trials", icon=":material/list:"),
])
navigation.run()
