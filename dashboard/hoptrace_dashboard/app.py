"""The dashboard's entry point (`streamlit run hoptrace_dashboard/app.py`): access, store, sidebar, then the page.

Everything every page needs is settled here, before the page runs, so a page holds only
its own layout: the access token when one is set, a store that opens and has data (or a
clear explanation of how to get some), and the shared time range and clock.
"""

from __future__ import annotations

import streamlit as st

from hoptrace_collector.store import StoreError
from hoptrace_dashboard import access, context, data, nav, queries
from hoptrace_dashboard.settings import ENV_STORE, Settings

st.set_page_config(page_title="hoptrace", page_icon=":material/route:", layout="wide")
settings = Settings.from_env()
# The pages are declared before the token prompt, so the page and query of a pasted link
# (`/traces?trace=…`) are the ones shown once the token is given, not the Overview.
granted = access.granted(settings.token)
page = nav.navigation(hidden=not granted)
if not granted:
    st.stop()
if settings.store_url is None:
    st.error(f"No store to read. Start the dashboard with `hoptrace dashboard --store URL` (or set {ENV_STORE}).")
    st.stop()
try:
    has_data = bool(data.ask(settings.store_url, queries.functions))
except StoreError as exc:
    st.error("The store could not be read:")
    st.code(str(exc), language=None, wrap_lines=True)
    st.stop()
if not has_data:
    st.title("hoptrace")
    st.info("This store holds no spans yet.")
    st.markdown(
        "To see the dashboard with data, run the demo shop, which sends traced traffic through API Gateway, SNS, "
        "SQS, EventBridge and HTTP calls and stores every span:\n\n"
        "```sh\nhoptrace demo --duration 60\n```\n\n"
        "then open `hoptrace dashboard` (it reads the newest demo run by default). For your own functions, attach "
        "the hoptrace layer and point the collector at this store.")
    st.caption("Store:")
    st.code(settings.store_url, language=None)
    st.stop()
context.build(settings.store_url)
page.run()
