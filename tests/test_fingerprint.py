from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import harmonstats
from harmonstats.fingerprint import source_fingerprint


def test_fingerprint_is_the_hash_of_the_sources():
    root = Path(harmonstats.__file__).parent
    digest = hashlib.sha256()
    for path in sorted((root / "synth").rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    assert source_fingerprint("synth") == digest.hexdigest()[:16]


def test_fingerprint_depends_on_what_is_named():
    assert source_fingerprint("synth") != source_fingerprint("measures")
    assert source_fingerprint("labels", "io") == source_fingerprint("io", "labels")
    with pytest.raises(ValueError, match="no harmonstats source for 'nope'"):
        source_fingerprint("nope")
