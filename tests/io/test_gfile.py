"""tf.io.gfile on local paths: behaviour and error types as TensorFlow's."""

import os

import pytest

import dlframe as tf

gfile = tf.io.gfile


def test_files_and_directories(tmp_path):
    root = str(tmp_path / "a")
    gfile.makedirs(os.path.join(root, "b", "c"))
    gfile.makedirs(os.path.join(root, "b"))  # existing: fine
    assert gfile.isdir(root) and gfile.exists(root)
    gfile.mkdir(root)  # existing: TF ignores AlreadyExists
    with pytest.raises(tf.errors.NotFoundError):
        gfile.mkdir(str(tmp_path / "x" / "y"))
    gfile.mkdir(os.path.join(root, "d"))
    with gfile.GFile(os.path.join(root, "f.txt"), "w") as f:
        f.write("line1\nline2\n")
    assert gfile.listdir(root) == ["b", "d", "f.txt"]
    assert gfile.glob(os.path.join(root, "*.txt")) == [os.path.join(root, "f.txt")]
    st = gfile.stat(os.path.join(root, "f.txt"))
    assert st.length == 12 and not st.is_directory and st.mtime_nsec > 0
    assert gfile.stat(root).is_directory
    walked = list(gfile.walk(root))
    assert walked[0] == (root, ["b", "d"], ["f.txt"])
    assert (os.path.join(root, "b"), ["c"], []) in walked
    assert list(gfile.walk(str(tmp_path / "missing"))) == []
    with pytest.raises(tf.errors.NotFoundError):
        gfile.listdir(str(tmp_path / "missing"))
    with pytest.raises(tf.errors.NotFoundError):
        gfile.stat(str(tmp_path / "missing"))


def test_copy_rename_remove(tmp_path):
    src, dst = str(tmp_path / "s.bin"), str(tmp_path / "d.bin")
    with gfile.GFile(src, "wb") as f:
        f.write(b"\x00\x01abc")
    gfile.copy(src, dst)
    with pytest.raises(tf.errors.AlreadyExistsError):
        gfile.copy(src, dst)
    gfile.copy(src, dst, overwrite=True)
    with gfile.GFile(dst, "rb") as f:
        assert f.read() == b"\x00\x01abc"
    moved = str(tmp_path / "m.bin")
    gfile.rename(dst, moved)
    assert not gfile.exists(dst) and gfile.exists(moved)
    with pytest.raises(tf.errors.AlreadyExistsError):
        gfile.rename(src, moved)
    gfile.rename(src, moved, overwrite=True)
    gfile.remove(moved)
    assert not gfile.exists(moved)
    with pytest.raises(tf.errors.NotFoundError):
        gfile.remove(moved)
    d = str(tmp_path / "tree")
    gfile.makedirs(os.path.join(d, "x"))
    gfile.rmtree(d)
    assert not gfile.exists(d)
    with pytest.raises(tf.errors.NotFoundError):
        gfile.rmtree(d)


def test_gfile_reading(tmp_path):
    path = str(tmp_path / "t.txt")
    with gfile.GFile(path, "w") as f:
        f.write("a\n")
        f.write("bb\nccc")
    with gfile.GFile(path) as f:
        assert f.readline() == "a\n"
        assert list(f) == ["bb\n", "ccc"]
    with gfile.GFile(path, "r") as f:
        assert f.read(1) == "a"
        assert f.tell() == 1
        f.seek(0)
        assert f.readlines() == ["a\n", "bb\n", "ccc"]
        assert f.size() == 8
    with gfile.GFile(path, "a") as f:
        f.write("\nd")
    assert gfile.GFile(path).read().splitlines()[-1] == "d"
    reader = gfile.GFile(str(tmp_path / "missing"))  # lazy: fails on use
    with pytest.raises(tf.errors.NotFoundError):
        reader.read()
    with pytest.raises(tf.errors.UnimplementedError):
        gfile.exists("gs://bucket/x")
    assert gfile.exists("file://" + path)
