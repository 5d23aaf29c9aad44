"""cli/hoptrace_cli"""
