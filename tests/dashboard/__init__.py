"""Dashboard tests: AppTests on a fixture store, the flow logic, the CLI, a real browser."""
