"""Your code for assignment 0 (NumPy warm-up).

Fill in the stubs in ``nnfs/warmup.py``; the notebook ``warmup.ipynb`` walks you through
them and ``pytest`` in the assignment folder runs the public tests.
"""
