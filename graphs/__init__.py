"""flashnews.graphs"""
