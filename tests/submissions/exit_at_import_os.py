
# The module ends the process while it is being imported.
import os
os._exit(0)
