"""Step Functions executions as spans, rebuilt from execution history (works the same on AWS and locally)."""
