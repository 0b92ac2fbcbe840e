"""Build the course package's optional Cython im2col/col2im extension.

The project's metadata (name, version, dependencies, the ``student`` / ``instructor``
extras, packages, console scripts) is in ``pyproject.toml``; this file only adds the
extension and the build step that never fails because of it.

The extension is optional: when Cython, NumPy headers or a C compiler are missing, or the
build fails, the package still installs and ``course_lib.im2col`` falls back to a pure-NumPy
implementation (and says so once when imported).
"""
import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

EXT_NAME = "course_lib._im2col_cython"
EXT_SOURCE = os.path.join("course_lib", "_im2col_cython.pyx")


def cython_extensions():
    """Return the extension list, or [] with a warning when it cannot be built."""
    if os.environ.get("COURSE_LIB_NO_CYTHON"):
        print("setup.py: COURSE_LIB_NO_CYTHON is set; skipping the Cython extension", file=sys.stderr)
        return []
    try:
        import numpy
        from Cython.Build import cythonize
        from setuptools import Extension
    except ImportError as exc:
        print(f"setup.py: {exc}; installing without the Cython extension "
              "(course_lib will use its pure-NumPy im2col)", file=sys.stderr)
        return []
    ext = Extension(
        EXT_NAME,
        [EXT_SOURCE],
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3"],
    )
    return cythonize([ext], language_level=3, quiet=True)


# The kernels' prange loops run in parallel when compiled with OpenMP and serially without
# it, so OpenMP is tried first and dropped when the compiler does not support it.
OPENMP_FLAGS = {"msvc": (["/openmp"], [])}
DEFAULT_OPENMP_FLAGS = (["-fopenmp"], ["-fopenmp"])


class OptionalBuildExt(build_ext):
    """Build extensions, but never fail the install because of them."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # no compiler, broken toolchain, ...
            print(f"setup.py: building the Cython extension failed ({exc}); "
                  "course_lib will use its pure-NumPy im2col", file=sys.stderr)

    def build_extension(self, ext):
        compile_flags, link_flags = OPENMP_FLAGS.get(self.compiler.compiler_type,
                                                     DEFAULT_OPENMP_FLAGS)
        plain_compile, plain_link = list(ext.extra_compile_args), list(ext.extra_link_args)
        ext.extra_compile_args = plain_compile + compile_flags
        ext.extra_link_args = plain_link + link_flags
        try:
            super().build_extension(ext)
            return
        except Exception as exc:
            print(f"setup.py: building {ext.name} with OpenMP failed ({exc}); "
                  "retrying without it (the kernels then run on one thread)", file=sys.stderr)
        ext.extra_compile_args, ext.extra_link_args = plain_compile, plain_link
        try:
            super().build_extension(ext)
        except Exception as exc:
            print(f"setup.py: building {ext.name} failed ({exc}); "
                  "course_lib will use its pure-NumPy im2col", file=sys.stderr)


# Name, version, dependencies, extras, packages and scripts are in pyproject.toml.
setup(
    ext_modules=cython_extensions(),
    cmdclass={"build_ext": OptionalBuildExt},
)
