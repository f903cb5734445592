"""The dashboard's pages: Streamlit scripts run by ``st.navigation`` from ``app.py`` (not in a
folder named pages/, which Streamlit would take for its older multipage layout)."""
