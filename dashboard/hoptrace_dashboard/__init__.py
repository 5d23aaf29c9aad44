"""hoptrace's dashboard: a Streamlit app over any span store, for following one request end to end.

Run it with `hoptrace dashboard` (see `server.start_dashboard`); `app.py` is the Streamlit
entry point, `views/` the pages, `queries` what they ask the store, `flow` how one trace is
put back together.
"""
