"""The paper miniature: config/paper.yaml run end to end at small counts.

``config/paper_mini.yaml`` layered on ``config/paper.yaml`` changes nothing but counts
(images, epochs, iterations, steps, samples, evaluation points), so the miniature
runs every code path of the paper scale. :mod:`.sources` fabricates what the paper
scale fetches or reads from the user's disk, in each source's published layout;
:mod:`.run` serves the fetched ones on 127.0.0.1, runs the workflow and prints
each rule's wall time and peak memory with its extrapolation to the paper's counts.
"""
