"""flashnews.agents"""
