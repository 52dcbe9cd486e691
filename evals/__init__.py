"""Prompt-regression evals: versioned datasets of real papers and a runner (issue 10; not built yet)."""
