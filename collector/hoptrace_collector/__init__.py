"""collector/hoptrace_collector"""
