import os
import time

from salt_autoscale_gate.actions import autosign_stub_path, write_autosign_stub

INSTANCE = "i-0123456789abcdef0"


def test_a_stub_is_an_empty_0600_file_and_writing_it_again_restarts_salts_autosign_timeout(settings):
    path = autosign_stub_path(settings, INSTANCE)
    write_autosign_stub(settings, path)
    st = os.lstat(path)
    assert st.st_size == 0 and st.st_mode & 0o777 == 0o600
    old = time.time() - 3 * 3600  # past Salt's autosign_timeout (120 minutes): the master would remove it
    os.utime(path, (old, old))
    write_autosign_stub(settings, path)
    assert time.time() - os.lstat(path).st_mtime < 60
    assert os.listdir(os.path.dirname(path)) == [INSTANCE]  # nothing else in minions_autosign/


def test_a_symlink_in_place_of_the_stub_is_replaced_and_its_target_left_alone(settings, tmp_path):
    path = autosign_stub_path(settings, INSTANCE)
    os.makedirs(os.path.dirname(path), mode=0o700)
    target = tmp_path / "elsewhere"
    target.write_text("not the master's")
    os.symlink(str(target), path)
    write_autosign_stub(settings, path)
    assert not os.path.islink(path) and os.path.getsize(path) == 0
    assert target.read_text() == "not the master's"
    assert sorted(os.listdir(settings.pki_dir)) == ["minions_autosign"]  # no temp file left in pki_dir
