"""Similar images: exact and approximate search, local or on Dask, and saved indexes.
"""
