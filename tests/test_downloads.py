"""Paper-scale downloads (common/download.py), against an HTTP server on this machine."""

import hashlib
import io
import tarfile
import zipfile

import pytest

from common.config import ConfigError, validate_config
from common.download import (
    ChecksumError,
    Source,
    download_inputs,
    fetch,
    unpack,
    verify_fetched,
)
from common.io import sha256_path

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB: several read chunks


def _source(url, algorithm="sha256", digest=None, **extra) -> Source:
    digest = digest or hashlib.new(algorithm, PAYLOAD).hexdigest()
    return Source(name="example", url=url, algorithm=algorithm, digest=digest, **extra)


@pytest.mark.parametrize("algorithm", ["sha256", "sha1", "md5"])
def test_fetch_verifies_each_published_checksum(local_server, tmp_path, algorithm):
    folder, url = local_server
    (folder / "data.bin").write_bytes(PAYLOAD)
    destination = tmp_path / "out" / "data.bin"
    digest = fetch(_source(f"{url}/data.bin", algorithm), destination)
    assert destination.read_bytes() == PAYLOAD
    assert digest == hashlib.new(algorithm, PAYLOAD).hexdigest()


def test_a_torchvision_style_sha256_prefix_is_checked_too(local_server, tmp_path):
    folder, url = local_server
    (folder / "weights.pth").write_bytes(PAYLOAD)
    prefix = hashlib.sha256(PAYLOAD).hexdigest()[:8]
    fetch(_source(f"{url}/weights.pth", digest=prefix), tmp_path / "weights.pth")
    wrong = f"{(int(prefix, 16) + 1) % 16**8:08x}"
    with pytest.raises(ChecksumError):
        fetch(_source(f"{url}/weights.pth", digest=wrong), tmp_path / "other.pth")


def test_a_wrong_checksum_names_the_key_and_leaves_nothing(local_server, tmp_path):
    folder, url = local_server
    (folder / "data.bin").write_bytes(PAYLOAD)
    destination = tmp_path / "data.bin"
    with pytest.raises(ChecksumError, match=r"config key 'downloads.example'.*expects 0{64}"):
        fetch(_source(f"{url}/data.bin", digest="0" * 64), destination)
    assert not destination.exists()
    assert not destination.with_name("data.bin.part").exists()


def test_an_interrupted_download_resumes_from_its_part_file(local_server, tmp_path):
    """The server's copy has other first bytes: only a resumed download passes the check."""
    folder, url = local_server
    cut = 300_000
    (folder / "data.bin").write_bytes(b"x" * cut + PAYLOAD[cut:])
    destination = tmp_path / "data.bin"
    destination.with_name("data.bin.part").write_bytes(PAYLOAD[:cut])
    fetch(_source(f"{url}/data.bin"), destination)
    assert destination.read_bytes() == PAYLOAD


@pytest.mark.parametrize(("served", "stale"), [
    ("whole-data.bin", b"stale" * 1000),   # no range support: 200, the part file rewritten
    ("data.bin", b"stale" * 1000),         # resumed on stale bytes: fails, fetched again
    ("data.bin", b"stale" * 300_000),      # the part file is longer than the file: 416
    ("data.bin", PAYLOAD),                 # the part file is complete: 416, kept
])
def test_a_stale_or_complete_part_file_still_ends_in_the_right_bytes(local_server, tmp_path,
                                                                      served, stale):
    folder, url = local_server
    (folder / served).write_bytes(PAYLOAD)
    destination = tmp_path / "data.bin"
    destination.with_name("data.bin.part").write_bytes(stale)
    fetch(_source(f"{url}/{served}"), destination)
    assert destination.read_bytes() == PAYLOAD
    assert not destination.with_name("data.bin.part").exists()


def _archive(kind: str) -> bytes:
    buffer = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(buffer, "w") as bundle:
            bundle.writestr("top/inner/a.txt", "alpha")
    else:
        with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
            info = tarfile.TarInfo("top/inner/a.txt")
            info.size = 5
            bundle.addfile(info, io.BytesIO(b"alpha"))
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_unpack_builds_the_whole_folder_or_nothing(tmp_path, kind):
    archive = tmp_path / "archive"
    archive.write_bytes(_archive(kind))
    directory = tmp_path / "sources" / "example"
    unpack(_source("http://unused", unpack=kind), archive, directory)
    assert (directory / "top/inner/a.txt").read_text() == "alpha"
    assert not directory.with_name("example.part").exists()
    before = sha256_path(directory)
    (directory / "top/inner/a.txt").write_text("beta")
    assert sha256_path(directory) != before  # provenance sees a changed unpacked tree


def test_unpack_refuses_members_outside_the_folder_and_leaves_nothing(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as bundle:
        for name in ("inside.txt", "../escape.txt"):
            info = tarfile.TarInfo(name)
            info.size = 1
            bundle.addfile(info, io.BytesIO(b"x"))
    archive = tmp_path / "evil.tar"
    archive.write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match="outside its folder"):
        unpack(_source("http://unused", unpack="tar"), archive, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "out").exists()
    assert not (tmp_path / "out.part").exists()


def test_a_failed_extraction_removes_its_half_built_folder(tmp_path):
    archive = tmp_path / "broken.zip"
    archive.write_bytes(_archive("zip")[:40])  # truncated: not a readable zip
    with pytest.raises(zipfile.BadZipFile):
        unpack(_source("http://unused", unpack="zip"), archive, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.part").exists()


def _config(**downloads):
    import yaml

    from common import PROJECT_ROOT

    config = yaml.safe_load((PROJECT_ROOT / "config/config.yaml").read_text())
    config["downloads"] = downloads
    return config


WEIGHTS = {"url": "https://example.org/models/vgg16-397923af.pth", "sha256": "397923af"}
ARCHIVE = {"url": "https://example.org/voc.tar", "md5": "0" * 32, "unpack": "tar"}


def test_paths_under_downloads_or_sources_become_rule_inputs():
    config = _config(vgg16=WEIGHTS, voc=ARCHIVE)
    assert download_inputs(config, "resources/downloads/vgg16/vgg16-397923af.pth") == [
        "resources/downloads/vgg16/vgg16-397923af.pth"]
    assert download_inputs(config, "resources/sources/voc/VOCdevkit", None,
                           "/data/elsewhere") == ["resources/sources/voc"]


@pytest.mark.parametrize(("section", "value", "message"), [
    ("pretrained", "resources/downloads/unknown/x.pth", "'unknown' is not a source"),
    ("pretrained", "resources/downloads/vgg16/other.pth", "fetches resources/downloads/vgg16/"),
    ("pretrained", "resources/sources/voc/x.pth", "a weight file under resources/downloads"),
])
def test_a_path_that_no_source_fetches_is_rejected_by_its_key(section, value, message):
    config = _config(vgg16=WEIGHTS, voc=ARCHIVE)
    config[section]["vgg16"] = value
    with pytest.raises(ConfigError, match=rf"'pretrained.vgg16'.*{message}"):
        validate_config(config)


@pytest.mark.parametrize("entry", [
    {"url": "https://example.org/a.tar"},                                  # no checksum
    {"url": "https://example.org/a.tar", "md5": "0" * 32, "sha1": "0" * 40},  # two
    {"url": "https://example.org/a.tar", "sha256": "0676ba6"},            # prefix too short
    {"url": "file:///etc/passwd", "md5": "0" * 32},                       # not a download
    {"url": "https://example.org/a.tar", "md5": "0" * 32, "unpack": "rar"},
])
def test_a_malformed_source_is_rejected_before_any_job(entry):
    with pytest.raises(ConfigError, match="downloads.broken"):
        validate_config(_config(broken=entry))


def test_a_source_name_or_file_that_is_not_a_plain_folder_name_is_rejected():
    with pytest.raises(ConfigError, match="downloads"):
        validate_config(_config(**{"a/b": WEIGHTS}))
    with pytest.raises(ConfigError, match="downloads.vgg16.file"):
        validate_config(_config(vgg16={**WEIGHTS, "file": ".."}))


def test_a_dataset_root_must_be_an_unpacked_archive_and_a_single_file_is_not_one():
    config = _config(vgg16=WEIGHTS)
    config["datasets"]["scenes"]["root"] = "resources/downloads/vgg16/vgg16-397923af.pth"
    with pytest.raises(ConfigError, match="'datasets.scenes.root'.*unpacked archive"):
        validate_config(config)
    config["datasets"]["scenes"]["root"] = "resources/sources/vgg16"
    with pytest.raises(ConfigError, match="'datasets.scenes.root'.*is a single file"):
        validate_config(config)


def test_a_fetched_file_placed_by_hand_is_checked_where_it_is_read(tmp_path, monkeypatch):
    """Snakemake runs no download for a file that exists, so the jobs check it."""
    monkeypatch.chdir(tmp_path)
    weights = tmp_path / "resources/downloads/vgg16/vgg16.pth"
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"the published weights")
    digest = hashlib.sha256(b"the published weights").hexdigest()
    config = {"downloads": {"vgg16": {"url": "https://example.org/vgg16.pth", "sha256": digest}}}
    read = ["resources/downloads/vgg16/vgg16.pth", "resources/data/cars/test.npz"]
    verify_fetched(config, read)
    weights.write_bytes(b"other weights, placed by hand")
    with pytest.raises(ChecksumError, match=rf"config key 'downloads.vgg16': resources/downloads/"
                                            rf"vgg16/vgg16.pth has sha256 [0-9a-f]{{64}}, but the "
                                            rf"configuration expects {digest}"):
        verify_fetched(config, read)


def _tar_member(name: str, kind: bytes = tarfile.REGTYPE, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, target, 1 if kind == tarfile.REGTYPE else 0
    return info


MALICIOUS_TAR_MEMBERS = {
    "parent": _tar_member("../escape.txt"),
    "absolute": _tar_member("/tmp/escape.txt"),
    "nested parent": _tar_member("top/../../escape.txt"),
    "absolute symlink": _tar_member("top/link", tarfile.SYMTYPE, "/etc/passwd"),
    "symlink outside": _tar_member("top/link", tarfile.SYMTYPE, "../../escape.txt"),
    "hard link outside": _tar_member("top/link", tarfile.LNKTYPE, "../escape.txt"),
    "device": _tar_member("top/device", tarfile.CHRTYPE),
    "fifo": _tar_member("top/fifo", tarfile.FIFOTYPE),
}


@pytest.mark.parametrize("case", MALICIOUS_TAR_MEMBERS)
def test_a_tar_member_that_would_leave_its_folder_or_is_not_a_file_stops_unpacking(tmp_path,
                                                                                  case):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as bundle:
        bundle.addfile(_tar_member("top/inside.txt"), io.BytesIO(b"x"))
        member = MALICIOUS_TAR_MEMBERS[case]
        bundle.addfile(member, io.BytesIO(b"x") if member.isreg() else None)
    archive = tmp_path / "evil.tar"
    archive.write_bytes(buffer.getvalue())
    with pytest.raises((ValueError, tarfile.FilterError)):
        unpack(_source("http://unused", unpack="tar"), archive, tmp_path / "work" / "out")
    assert sorted(path.name for path in (tmp_path / "work").iterdir()) == []
    assert not (tmp_path / "escape.txt").exists()


@pytest.mark.parametrize("name", ["../escape.txt", "/tmp/escape.txt", "top/../../escape.txt"])
def test_a_zip_member_that_would_leave_its_folder_stops_unpacking(tmp_path, name):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("top/inside.txt", "x")
        bundle.writestr(name, "x")
    with pytest.raises(ValueError, match="outside its folder"):
        unpack(_source("http://unused", unpack="zip"), archive, tmp_path / "work" / "out")
    assert sorted(path.name for path in (tmp_path / "work").iterdir()) == []
