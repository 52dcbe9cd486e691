"""flashnews.evals"""
