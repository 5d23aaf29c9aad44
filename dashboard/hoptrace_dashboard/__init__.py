"""dashboard/hoptrace_dashboard"""
