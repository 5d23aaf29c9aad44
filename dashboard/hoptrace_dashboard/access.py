"""The access token asked for on every page when the dashboard listens beyond this machine.

Traces hold request paths, message bodies and error text of production systems, so a
dashboard bound to 0.0.0.0 must not be open to whoever finds the port. The token is typed
once per browser session (never put in the URL, which gets pasted into chat channels);
the session keeps only its digest.
"""

from __future__ import annotations

import hashlib
import hmac
import time

import streamlit as st

_SESSION_KEY = "hoptrace_access"
_FAILED_ATTEMPT_DELAY_S = 1.0  # slows guessing without bothering someone who mistyped


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def granted(token: str | None) -> bool:
    """True when no token is configured or this session has given it; otherwise shows the prompt."""
    if not token:
        return True
    if hmac.compare_digest(st.session_state.get(_SESSION_KEY, ""), _digest(token)):
        return True
    st.title("hoptrace")
    st.write("This dashboard is shared on the network, so it asks for its access token "
             "(the `--token` it was started with, or `HOPTRACE_DASHBOARD_TOKEN`).")
    with st.form("access"):
        entered = st.text_input("Access token", type="password")
        submitted = st.form_submit_button("Open the dashboard")
    if submitted:
        if hmac.compare_digest(_digest(entered), _digest(token)):
            st.session_state[_SESSION_KEY] = _digest(token)
            st.rerun()
        time.sleep(_FAILED_ATTEMPT_DELAY_S)
        st.error("That is not the token this dashboard was started with.")
    return False
