"""YAML tags read as kubectl reads them: ``sigs.k8s.io/yaml`` unmarshals with go-yaml v2
into ``interface{}``, which ignores the tag of a mapping or a list, resolves a scalar only
for the tags ``resolve`` knows (resolve.go's ``resolvableTag``), decodes ``!!binary``
(decode.go's ``decoder.scalar``) and keeps any other tagged scalar's text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stockade.cli.main import main
from stockade.errors import InputError
from stockade.sources.files import parse_text

HEAD = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n"


def read(value: str) -> Any:
    """``x`` as read from a document that holds ``x: <value>``."""
    return parse_text(f"{HEAD}x: {value}\n", "t.yaml")[0].data["x"]


@pytest.mark.parametrize(("value", "expected"), [
    ("!foo {a: b}", {"a": "b"}),             # a mapping's tag is ignored
    ("!foo [1, y]", [1, True]),              # so is a list's
    ("!custom 82", "82"),                    # an unknown tag keeps the scalar's text
    ("!foo ~", "~"),
    ("!<tag:example.com,2026:x> 5", "5"),
    ("!!map foo", "foo"),                    # a collection tag on a scalar: unknown to resolve
    ("!!binary aGk=", "hi"),                 # base64, decoded into a Go string
    ("!!binary |\n  aGk=\n", "hi"),          # Go's base64 skips line breaks
    ("!!binary /w==", "\ufffd"),             # invalid UTF-8: JSON writes U+FFFD per byte
    ("!!binary 4oI=", "\ufffd\ufffd"),
    ("!!set {a, b}", {"a": None, "b": None}),
    ("!!omap [{a: 1}, {b: 2}]", [{"a": 1}, {"b": 2}]),
    ("!!pairs [{a: 1}, {a: 2}]", [{"a": 1}, {"a": 2}]),
    ("!!str {a: 1}", {"a": 1}),
    # The non-specific tag ``!``: go-yaml's resolve leaves the text (PyYAML alone would
    # resolve it as a plain scalar: 82, true, null).
    ("! 82", "82"),
    ('! "82"', "82"),
    ("! y", "y"),
    ("! ~", "~"),
    ("! {a: y}", {"a": True}),               # on a mapping or a list it is ignored
    ("! [1, y]", [1, True]),
    ("[! 82, 82]", ["82", 82]),
    ("!<!> 82", "82"),                       # the same tag, written verbatim
    ("{k: ! 07, l: 07}", {"k": "07", "l": 7}),
])
def test_tagged_values_read_as_go_yaml_v2(value: str, expected: Any) -> None:
    assert read(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("!!merge <<", "<<"),                    # merges only as a key
    ('!!int "0x1F"', 31),                    # quoting does not matter under a tag
    ("!!float 1", 1.0),                      # an int64 becomes a float
    ("!!bool yes", True),
    ("!!null ~", None),
    ("!!str 82", "82"),
    ("!!timestamp 2001-12-14", "2001-12-14"),  # timestamps stay text
])
def test_resolvable_tags_still_read_as_go_yaml_v2(value: str, expected: Any) -> None:
    """Read right before tags went through ``construct_tagged`` too; kept so they stay so."""
    assert read(value) == expected


def test_a_bare_tagged_double_angle_key_still_merges() -> None:
    """go-yaml's isMerge takes a ``<<`` resolved implicitly, which ``! <<`` is."""
    data = parse_text(f"{HEAD}x:\n  ! <<: {{a: 1}}\n  ! 2: b\n", "t.yaml")[0].data
    assert data["x"] == {"a": 1, "2": "b"}


def test_an_exclamation_mark_in_text_reads_as_before() -> None:
    """A ``! `` that is not a tag (in a quoted string) takes the loader for bare tags,
    which reads everything else as before."""
    data = parse_text(f'{HEAD}x: "x ! y"\nw: 82\nz: yes\n', "t.yaml")[0].data
    assert (data["x"], data["w"], data["z"]) == ("x ! y", 82, True)


def test_tabs_read_as_before_beside_a_bare_tag() -> None:
    """The text with a bare tag keeps libyaml's scanner, which takes a tab where go-yaml
    does (after a scalar, in a flow collection): only the composer is PyYAML's."""
    text = (f'{HEAD}x: "while ! nc -z db 5432"\t\nw: [1,\t2]\nv: {{b: 1,\tc: ! 2}}\n'
            "u: p\t\n")
    data = parse_text(text, "t.yaml")[0].data
    assert (data["x"], data["w"], data["v"], data["u"]) == (
        "while ! nc -z db 5432", [1, 2], {"b": 1, "c": "2"}, "p")


def test_merge_tag_merges_only_a_double_angle_key() -> None:
    data = parse_text(f"{HEAD}x:\n  !!merge <<: {{a: 1}}\n  !!merge b: 2\n", "t.yaml")[0].data
    assert data["x"] == {"a": 1, "b": 2}


@pytest.mark.parametrize(("value", "problem"), [
    ("!!int abc", "cannot decode !!str `abc` as a !!int"),
    ("!!null foo", "cannot decode !!str `foo` as a !!null"),
    ("!!bool 1", "cannot decode !!int `1` as a !!bool"),
    ("!!float 18446744073709551615",  # a uint64 is not converted to a float
     "cannot decode !!int `18446744073709551615` as a !!float"),
    ("!!int 0x" + "f" * 20, "cannot decode !!str `0x" + "f" * 20 + "` as a !!int"),
    ("!!timestamp 2001-02-30", "cannot decode !!str `2001-02-30` as a !!timestamp"),
    ("!!binary aGk", "!!binary value contains invalid base64 data"),
])
def test_values_go_yaml_v2_cannot_decode_are_errors_with_a_line(value: str,
                                                                 problem: str) -> None:
    with pytest.raises(InputError) as caught:
        read(value)
    assert str(caught.value) == f"t.yaml:4: invalid YAML: {problem}"


def test_check_reads_tagged_ports(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """``!custom 82`` and ``! 82`` are the port name "82" (no letter: refused, as kubectl
    refuses it);
    ``!!binary aGk=`` the port name "hi"; ``!foo`` on the labels is ignored."""
    path = tmp_path / "np.yaml"
    path.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                    "metadata: {name: np, namespace: a, labels: !foo {a: b}}\n"
                    "spec:\n  podSelector: {}\n  ingress:\n  - ports:\n"
                    "    - port: !custom 82\n    - port: !!binary aGk=\n"
                    "    - port: ! 82\n")
    code = main(["check", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "invalid YAML" not in err
    assert 'spec.ingress[0].ports[0].port: Invalid value: "82": must contain at least one ' \
           "letter" in err
    assert "ports[1]" not in err
    assert 'spec.ingress[0].ports[2].port: Invalid value: "82": must contain at least one ' \
           "letter" in err
