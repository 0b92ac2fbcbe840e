"""Proxies for objects that stay in the child.

A :class:`RemoteObject` stands for a module, class, function or instance living in the
child. Attribute reads come back by copy (or as another proxy), attribute writes and calls
are forwarded, and ``len``/indexing work for simple containers. A proxy never forwards
``==``, ``bool()``, ``float()`` or NumPy conversion to the child: those are exactly the
hooks a crafted object would use to look correct, so they raise :class:`ProtocolError`
(or, for ``==``, compare identity) instead.

Proxies of modules, and of what was reached from a module by attribute reads only
(``mod.Standardizer``, ``mod.softmax``), remember that path: after the child was restarted
they re-import and re-resolve themselves. Other objects (instances) died with their child;
using them raises :class:`StudentCrash` saying so.
"""
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn

from autograder.sandbox.errors import ProtocolError, StudentCrash

if TYPE_CHECKING:
    from autograder.sandbox.process import Sandbox

MakeProxy = Callable[[int, str, bool], "RemoteObject"]

_SLOTS = ("_sandbox", "_handle", "_generation", "_type_name", "_callable", "_label", "_path")


class RemoteObject:
    """A student object that lives in the sandboxed child.

    Parameters
    ----------
    sandbox : Sandbox
    handle : int
        Id of the object in the child's handle table.
    type_name : str
        The object's class name as the child reported it (untrusted; display only).
    is_callable : bool
    label : str
        How messages name the object ("nnfs.warmup.softmax", "Standardizer object").
    path : tuple of str or None
        ``(module, attr, ...)`` when the object can be found again after a restart.
    """

    __slots__ = _SLOTS + ("__weakref__",)

    def __init__(self, sandbox: "Sandbox", handle: int, type_name: str, is_callable: bool, label: str,
                 path: tuple[str, ...] | None = None) -> None:
        set_slot = object.__setattr__
        set_slot(self, "_sandbox", sandbox)
        set_slot(self, "_handle", handle)
        set_slot(self, "_generation", sandbox.generation)
        set_slot(self, "_type_name", type_name)
        set_slot(self, "_callable", is_callable)
        set_slot(self, "_label", label)
        set_slot(self, "_path", path)

    # -- finding the object in the current child ---------------------------------------
    def _live_handle(self) -> int:
        """This object's handle in the running child, re-resolving it after a restart."""
        sandbox = self._sandbox
        if self._generation == sandbox.live_generation:
            return self._handle
        if self._path is None:
            raise StudentCrash(
                f"{self._label} lived in a student process that has ended (after an earlier "
                "crash or timeout); the test cannot use it any more")
        sandbox.ensure_running()
        fresh = resolve_path(sandbox, self._path)
        if not isinstance(fresh, RemoteObject):
            raise ProtocolError(f"{self._label} is no longer an object after restarting the "
                                "student process")
        for slot in ("_handle", "_generation", "_type_name", "_callable"):
            object.__setattr__(self, slot, getattr(fresh, slot))
        return self._handle

    def _child_proxy(self, label: str | None, path: tuple[str, ...] | None = None) -> MakeProxy:
        """Proxy factory for objects in an answer: named by ``label`` when they were
        reached by attribute reads, else by their type and where they came from."""
        sandbox = self._sandbox

        def make(handle: int, type_name: str, is_callable: bool) -> RemoteObject:
            if label is not None:
                return RemoteObject(sandbox, handle, type_name, is_callable, label, path)
            return RemoteObject(sandbox, handle, type_name, is_callable,
                                f"the {type_name} object from {self._label}")
        return make

    # -- forwarded operations -----------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            # NumPy, pytest and copy probe dunders; none of them may reach student code.
            raise AttributeError(name)
        handle = self._live_handle()
        # Attributes of instances are named after the class ("Standardizer.fit"), which is
        # how students know them; attributes of modules after the full path.
        owner = self._label if self._path else self._type_name
        label = f"{owner}.{name}"
        path = self._path + (name,) if self._path else None
        return self._sandbox.request("getattr", f"reading {label}", handle, name=name,
                                     make_proxy=self._child_proxy(label, path))

    def __setattr__(self, name: str, value: object) -> None:
        if name in _SLOTS:
            raise AttributeError(f"cannot set {name} of a proxy")
        handle = self._live_handle()
        self._sandbox.request("setattr", f"setting {self._label}.{name}", handle,
                              name=name, value=value)

    def __call__(self, *args: object, **kwargs: object) -> Any:
        handle = self._live_handle()
        return self._sandbox.request("call", f"calling {self._label}", handle,
                                     args=list(args), kwargs=dict(kwargs),
                                     make_proxy=self._child_proxy(None))

    def __len__(self) -> int:
        length = self._sandbox.request("len", f"taking len() of {self._label}",
                                       self._live_handle())
        if type(length) is not int or length < 0:
            raise ProtocolError(f"len() of {self._label} did not give a count")
        return length

    def __getitem__(self, key: object) -> Any:
        return self._sandbox.request("getitem", f"indexing {self._label}", self._live_handle(),
                                     key=key, make_proxy=self._child_proxy(None))

    def __iter__(self) -> Iterator[Any]:
        for index in range(len(self)):
            yield self[index]

    def __repr__(self) -> str:
        return f"<student {self._type_name} {self._label}>"

    # -- conversions a crafted object could abuse ----------------------------------------
    def _not_a_value(self, *args: object, **kwargs: object) -> NoReturn:
        raise ProtocolError(
            f"the test needs a number or a NumPy array here, but got {self._label} (a "
            f"{self._type_name} object, which stays in the student process): return plain "
            "numbers or numeric NumPy arrays")

    __array__ = __bool__ = __float__ = __int__ = __index__ = __complex__ = _not_a_value


def resolve_path(sandbox: "Sandbox", path: tuple[str, ...]) -> Any:
    """Import ``path[0]`` in ``sandbox``'s child and follow the attribute names in ``path[1:]``.

    Not a method: a public name on :class:`RemoteObject` would hide a student attribute.
    """
    module_name = path[0]
    obj = sandbox.request(
        "import", f"importing {module_name}", name=module_name,
        make_proxy=lambda handle, type_name, is_callable: RemoteObject(
            sandbox, handle, type_name, is_callable, module_name, (module_name,)))
    for name in path[1:]:
        obj = getattr(obj, name)
    return obj


def default_proxy(sandbox: "Sandbox") -> MakeProxy:
    """Proxy factory for answers whose objects have no better label."""
    def make(handle: int, type_name: str, is_callable: bool) -> RemoteObject:
        return RemoteObject(sandbox, handle, type_name, is_callable, f"a {type_name} object")
    return make


def handle_of(sandbox: "Sandbox") -> Callable[[object], int | None]:
    """For the encoder: the child-side handle of a proxy of ``sandbox``, else None."""
    def lookup(value: object) -> int | None:
        if not isinstance(value, RemoteObject):
            return None
        if value._sandbox is not sandbox:
            raise ProtocolError(f"{value._label} belongs to another student process")
        return value._live_handle()
    return lookup
