
# A syntax error: the module cannot be imported.
def broken(:
    pass
