"""The dashboard's pages, run as scripts by `st.navigation` (see nav.PAGES); a package only so they install.

Not named `pages/`: Streamlit would then run these files as its older directory-based app,
skipping app.py and with it the access check, the store and the sidebar.
"""
