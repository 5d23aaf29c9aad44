"""Step Functions for the local cloud: an Amazon States Language interpreter that runs Lambda tasks in our
worker pools and records AWS-shaped execution history (see ARCHITECTURE.md for why not moto's own runner)."""
