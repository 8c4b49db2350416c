"""The extension registry: typed stores that built-in apps and plugins add to.

Every store is declared here, once, with the type of item it holds; nothing can add a
store later (as NetBox's ``Registry``). Items arrive from each installed app's
``extensions.py`` (attendance_site/plugins/loading.py), built-in apps and plugins alike,
and the registry is frozen when start-up is over: an item registered at run time would
exist in one process only. Two items with one key stop start-up, naming both owners, so
a plugin cannot silently replace a built-in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

from django.core.exceptions import ImproperlyConfigured

from attendance_site.events.handlers import EventHandler
from attendance_site.events.types import EVENT_TYPES


def _everyone(user: Any) -> bool:
    return True


@dataclass(frozen=True)
class DashboardPanel:
    key: str
    title: str
    template: str
    order: int = 100
    # Whether a given person sees the panel at all (default: everyone with a role).
    visible_to: Callable[[Any], bool] = field(default=_everyone)


@dataclass(frozen=True)
class MenuItem:
    key: str
    label: str
    url: str
    order: int = 100
    visible_to: Callable[[Any], bool] = field(default=_everyone)


@dataclass(frozen=True)
class SimulatedMode:
    """How simulated attempts in one mode behave (simulations/synthetic.py, docs/simulations.md).

    Quality q in (0, 1) falls with poor light (half at ``light_half_lux``) or loud noise
    (half at ``noise_half_db``); with neither, conditions do not matter (q = 1).
    """

    share: float
    ceiling: float
    fa_base: float
    fa_slope: float
    fta_slope: float
    median_ms: float
    light_half_lux: float | None = None
    noise_half_db: float | None = None

    @property
    def limited_by(self) -> tuple[str, str] | None:
        """The condition a rule set should bound for this mode, and which end: ("light_lux", "min")."""
        if self.light_half_lux is not None:
            return ("light_lux", "min")
        if self.noise_half_db is not None:
            return ("noise_db", "max")
        return None


@dataclass(frozen=True)
class CheckInMethod:
    """A way a person checks in (face, voice, QR, PIN, a plugin's badge...).

    ``modes`` are the environment modes it provides, in order of preference: a site's
    rules switch methods on and off by these names (the key alone when not given). ``fallback`` methods are
    recommended when biometrics fail. ``simulation`` gives each mode its simulated
    behaviour; a method without one takes no part in synthetic simulations.
    """

    key: str
    label: str
    modes: tuple[str, ...] = ()
    fallback: bool = False
    simulation: dict[str, SimulatedMode] = field(default_factory=dict)
    # Labels of modes other than the key's own ("face_liveness": "Face with liveness").
    mode_labels: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.modes:
            object.__setattr__(self, "modes", (self.key,))

    def mode_label(self, mode: str) -> str:
        return self.mode_labels.get(mode) or (self.label if mode == self.key else mode.replace("_", " ").capitalize())


@dataclass(frozen=True)
class FaceMatcher:
    """Turns a photo into a probe and finds whose it is among a site's enrolled templates.

    The services and camera streams reach faces only through the configured matcher
    (``BIOMETRIC_BACKENDS["face_matcher"]``). Its callables, and what they must do:

    - ``sample_extract(image: bytes) -> FaceSample``: decode and check one photo, raising
      ``biometrics.face.FaceRejected(code, detail)`` for an unusable one (a 400);
    - ``encode(rgb, box) -> encoding``: the encoding of a face already found in a frame;
    - ``identify(gallery, encoding, *, threshold, margin) -> Identification``: 1:N;
    - ``verify(gallery, encoding, *, employee_id, threshold) -> Identification``: 1:1;
    - ``confidence(distance, threshold) -> float`` in [0, 1].

    The built-in one (biometrics/extensions.py) wraps biometrics/face.py and gallery.py.
    """

    key: str
    sample_extract: Callable[[bytes], Any]
    encode: Callable[[Any, Any], Any]
    identify: Callable[..., Any]
    verify: Callable[..., Any]
    confidence: Callable[[float, float], float]
    kind: ClassVar[str] = "face_matcher"


@dataclass(frozen=True)
class VoiceVerifier:
    """Turns a recording into an embedding and scores it against a template (1:1 only).

    - ``embed(clip: bytes) -> embedding``, raising ``biometrics.voice.AudioRejected(code,
      detail)`` for an unusable clip (a 400);
    - ``template_build(embeddings) -> template`` (a float vector, stored encrypted);
    - ``score(template, embedding) -> float`` and ``accepts(score) -> bool``.

    The built-in one wraps biometrics/voice.py.
    """

    key: str
    embed: Callable[[bytes], Any]
    template_build: Callable[[list[Any]], Any]
    score: Callable[[Any, Any], float]
    accepts: Callable[[float], bool]
    kind: ClassVar[str] = "voice_verifier"


@dataclass(frozen=True)
class LivenessCheck:
    """Decides from a few still images whether a live person is in front of the camera.

    ``check(images: list[bytes])`` returns a result with ``passed``, ``score`` and
    ``reason``, raising ``biometrics.face.FaceRejected`` for an undecodable image. The
    built-in one wraps biometrics/liveness.py.
    """

    key: str
    check: Callable[[list[bytes]], Any]
    kind: ClassVar[str] = "liveness"


BiometricBackend = FaceMatcher | VoiceVerifier | LivenessCheck
BIOMETRIC_BACKEND_KINDS: dict[str, type[BiometricBackend]] = {
    backend.kind: backend for backend in (FaceMatcher, VoiceVerifier, LivenessCheck)
}


@runtime_checkable
class AnomalyDetector(Protocol):
    """Scores a stored attendance event: 0 is ordinary, 1 is as odd as this detector can say.

    ``event`` is the payload of ``attendance.event_recorded`` (attendance_site/events/types.py),
    so a detector depends on the event log's stable form, not on our models.
    """

    key: str

    def score(self, event: dict[str, Any]) -> float: ...


class TransportError(Exception):
    """A delivery failed; ``permanent`` says a retry cannot help (bad address, refused credentials)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class Transport:
    """One way to send a notification or a record out (healthchecks' hc/api/transports.py).

    A subclass names its ``key`` and implements ``send``; the integration's own settings
    come in as ``config`` (a TypedDict of the integration).
    """

    key: ClassVar[str] = ""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def send(self, payload: dict[str, Any]) -> None:
        """Deliver ``payload`` or raise TransportError."""
        raise NotImplementedError


ItemT = TypeVar("ItemT")


class DuplicateKeyError(ImproperlyConfigured):
    pass


class FrozenRegistryError(RuntimeError):
    pass


class Store(Generic[ItemT]):
    """Items of one kind under unique keys, in registration order."""

    def __init__(self, name: str, item_type: type | tuple[type, ...], key: Callable[[ItemT], str]) -> None:
        self.name = name
        self.item_type = item_type
        self._key = key
        self._items: dict[str, ItemT] = {}
        self._owners: dict[str, str] = {}
        self._frozen = False

    def register(self, item: ItemT, *, owner: str = "") -> ItemT:
        if self._frozen:
            raise FrozenRegistryError(
                f"registry.{self.name} is frozen after start-up: declare {self._key(item)!r} in an extensions.py"
            )
        self._check_type(item, owner)
        key = self._key(item)
        if key in self._items:
            raise DuplicateKeyError(
                f"registry.{self.name}: {key!r} is registered by both {self._owners[key] or 'unknown'}"
                f" and {owner or 'unknown'}"
            )
        self._check(item, owner)
        self._items[key] = item
        self._owners[key] = owner
        return item

    def _check_type(self, item: object, owner: str) -> None:
        if not isinstance(item, self.item_type):
            raise ImproperlyConfigured(f"{owner}: registry.{self.name} takes {self._type_names()}, not {item!r}")

    def _type_names(self) -> str:
        types = self.item_type if isinstance(self.item_type, tuple) else (self.item_type,)
        return " or ".join(kind.__name__ for kind in types)

    def _check(self, item: ItemT, owner: str) -> None:
        """Store-specific checks of an item, beyond its type."""

    def freeze(self) -> None:
        self._frozen = True

    @property
    def frozen(self) -> bool:
        return self._frozen

    def owner_of(self, key: str) -> str:
        return self._owners[key]

    def __getitem__(self, key: str) -> ItemT:
        return self._items[key]

    def get(self, key: str) -> ItemT | None:
        return self._items.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[ItemT]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[str]:
        return list(self._items)

    def items(self) -> list[tuple[str, ItemT]]:
        return list(self._items.items())


OrderedT = TypeVar("OrderedT", DashboardPanel, MenuItem)


class OrderedStore(Store[OrderedT]):
    """Panels and menu entries: shown in ``order``, each to the people it is for."""

    def for_user(self, user: Any) -> list[OrderedT]:
        return sorted((item for item in self if item.visible_to(user)), key=lambda item: item.order)


class CheckInMethodStore(Store[CheckInMethod]):
    """The one vocabulary of check-in methods and the environment modes they provide.

    Stored methods, serializer choices, environment modes, recommended fallbacks and
    simulated modes all derive from it, in registration order (built-ins first).
    """

    MAX_KEY_LENGTH: ClassVar[int] = 32  # the width of the method columns

    def _check(self, item: CheckInMethod, owner: str) -> None:
        for name in (item.key, *item.modes):
            if not name or len(name) > self.MAX_KEY_LENGTH or not name.replace("_", "").isalnum():
                raise ImproperlyConfigured(
                    f"{owner}: check-in method {item.key!r}: {name!r} must be 1 to {self.MAX_KEY_LENGTH}"
                    " letters, digits or underscores."
                )
        taken = self.method_modes()
        for mode in item.modes:
            for other, modes in taken.items():
                if mode in modes:
                    raise DuplicateKeyError(
                        f"registry.checkin_methods: mode {mode!r} is provided by both {other!r}"
                        f" ({self.owner_of(other)}) and {item.key!r} ({owner or 'unknown'})"
                    )
        unknown = set(item.simulation) - set(item.modes)
        if unknown:
            raise ImproperlyConfigured(
                f"{owner}: check-in method {item.key!r} simulates modes it does not provide: {sorted(unknown)}"
            )

    def choices(self) -> list[tuple[str, str]]:
        return [(method.key, method.label) for method in self]

    def modes(self) -> tuple[str, ...]:
        return tuple(mode for method in self for mode in method.modes)

    def method_modes(self) -> dict[str, tuple[str, ...]]:
        return {method.key: method.modes for method in self}

    def fallbacks(self) -> tuple[str, ...]:
        return tuple(method.key for method in self if method.fallback)

    def simulated_modes(self) -> dict[str, SimulatedMode]:
        """Each simulated mode's behaviour, in the order of the methods and of their ``simulation``.

        That order fixes what a seeded synthetic run draws, so it is kept apart from the
        modes' order of preference.
        """
        return {mode: simulated for method in self for mode, simulated in method.simulation.items()}

    def mode_choices(self) -> list[tuple[str, str]]:
        return [(mode, method.mode_label(mode)) for method in self for mode in method.modes]


class EventHandlerStore(Store[EventHandler]):
    def _check(self, item: EventHandler, owner: str) -> None:
        unknown = item.event_types - EVENT_TYPES.keys()
        if unknown:
            raise ImproperlyConfigured(
                f"{owner}: event handler {item.name!r} listens to unknown event types: {sorted(unknown)}"
            )

    def handlers_for(self, event_type: str) -> list[EventHandler]:
        return [handler for handler in self if event_type in handler.event_types]


class ClassStore(Store[type]):
    """Stores whose items are classes (transports, DRF renderers), keyed by a class attribute."""

    def __init__(self, name: str, base: type, key_attribute: str) -> None:
        super().__init__(name, type, key=lambda item: getattr(item, key_attribute))
        self.base = base
        self.key_attribute = key_attribute

    def _check_type(self, item: object, owner: str) -> None:
        if not (isinstance(item, type) and issubclass(item, self.base)):
            raise ImproperlyConfigured(
                f"{owner}: registry.{self.name} takes subclasses of {self.base.__name__}, not {item!r}"
            )
        if not getattr(item, self.key_attribute, None):
            raise ImproperlyConfigured(f"{owner}: {item.__name__} in registry.{self.name} has no {self.key_attribute}")


class ProtocolStore(Store[AnomalyDetector]):
    def _check_type(self, item: object, owner: str) -> None:
        if not isinstance(item, AnomalyDetector) or not isinstance(getattr(item, "key", None), str):
            raise ImproperlyConfigured(
                f"{owner}: registry.{self.name} takes objects with a key and a score(event) method, not {item!r}"
            )


def _renderer_base() -> type:
    from rest_framework.renderers import BaseRenderer

    return BaseRenderer


class Registry:
    """The stores, declared once: assigning a new attribute after construction fails."""

    def __init__(self) -> None:
        stores: dict[str, Store[Any]] = {
            "event_handlers": EventHandlerStore("event_handlers", EventHandler, key=lambda item: item.name),
            "checkin_methods": CheckInMethodStore("checkin_methods", CheckInMethod, key=lambda item: item.key),
            "biometric_backends": Store(
                "biometric_backends", (FaceMatcher, VoiceVerifier, LivenessCheck), key=lambda item: item.key
            ),
            "anomaly_detectors": ProtocolStore("anomaly_detectors", object, key=lambda item: item.key),
            "integration_transports": ClassStore("integration_transports", Transport, "key"),
            "export_formats": ClassStore("export_formats", _renderer_base(), "format"),
            "dashboard_panels": OrderedStore("dashboard_panels", DashboardPanel, key=lambda item: item.key),
            "menu_items": OrderedStore("menu_items", MenuItem, key=lambda item: item.key),
        }
        object.__setattr__(self, "_stores", stores)

    # Typed views of the stores, for callers and for mypy.
    event_handlers: EventHandlerStore
    checkin_methods: CheckInMethodStore
    biometric_backends: Store[BiometricBackend]
    anomaly_detectors: ProtocolStore
    integration_transports: ClassStore
    export_formats: ClassStore
    dashboard_panels: OrderedStore[DashboardPanel]
    menu_items: OrderedStore[MenuItem]

    def __getattr__(self, name: str) -> Any:
        try:
            return self._stores[name]
        except KeyError:
            raise AttributeError(f"the registry has no store {name!r}") from None

    def __setattr__(self, name: str, value: object) -> None:
        raise TypeError("the registry's stores are declared once, in attendance_site/registry.py")

    def stores(self) -> dict[str, Store[Any]]:
        return dict(self._stores)

    def freeze(self) -> None:
        for store in self._stores.values():
            store.freeze()

    @property
    def frozen(self) -> bool:
        return all(store.frozen for store in self._stores.values())


registry = Registry()
