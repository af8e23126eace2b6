"""The co-occurrence family: offsets, counting, exact sums, the catalogue of named formulas,
the windowed kernels of texture maps built on the same sums, and the public matrix API.
"""
