"""localcloud/hoptrace_localcloud"""
