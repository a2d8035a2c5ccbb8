"""Hand-written NumPy training loops for judging the doctor (see ../corpus.py).

Each module is one learner's program: ``STYLE``, ``EXPECTED`` (root-cause codes, best first; empty
for a correct-only program), ``buggy(doctor)`` (absent for correct-only programs) and
``fixed(doctor)``, each returning ``(reports, metrics)``.
"""
