"""The read stage: every way a sample arrives (image files, arrays, volumes, masks,
chunked stores) becomes arrays; and the files commands write.
"""
