"""The gray, channels and quantize stages: exact, machine-independent conversions and binning.
"""
