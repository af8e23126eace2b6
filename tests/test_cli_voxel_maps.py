"""``haralick-learn map --volume``: voxel-based maps of a real scan, written on its voxel grid.

The scan is nibabel's test volume ``anatomical.nii`` (an int16 MR, 33 x 41 x 25,
shipped with nibabel), cropped to 8 x 20 x 22 and stored as NIfTI with a rotated,
shifted affine (so that an identity or a transposed affine cannot pass); the mask
is a drawn ellipsoid on the same grid.
"""

import json
import os

import numpy as np
import pytest

from haralick_learn import HaralickFeaturizer, texture_maps

from conftest import run_cli

nibabel = pytest.importorskip("nibabel")

cli = run_cli

#: Fast settings: pyradiomics's binning, two IBSI features, the 13 directions kept apart.
SETTINGS = dict(features=["ibsi_Contrast", "ibsi_JointEntropy"], bin_width=25)
OPTIONS = ["--features", "ibsi_Contrast", "ibsi_JointEntropy", "--bin-width", "25",
           "--window", "3"]


def anatomical():
    path = os.path.join(os.path.dirname(nibabel.__file__), "tests", "data", "anatomical.nii")
    return nibabel.load(path)


@pytest.fixture
def scan(tmp_path, monkeypatch):
    """``(scan.nii.gz, mask.nii.gz, affine)`` in an otherwise empty working folder."""
    monkeypatch.chdir(tmp_path)
    source = anatomical()
    voxels = np.asarray(source.dataobj)[12:20, 10:30, 2:24]  # 8 x 20 x 22 of the brain
    shift = np.eye(4)
    shift[:3, 3] = (12, 10, 2)
    turn = np.eye(4)
    turn[:2, :2] = [[0.8, -0.6], [0.6, 0.8]]  # 37 degrees about the z axis
    affine = turn @ source.affine @ shift
    nibabel.save(nibabel.Nifti1Image(voxels, affine), "scan.nii.gz")
    i, j, k = np.indices(voxels.shape)
    middle = (np.array(voxels.shape) - 1) / 2
    inside = ((i - middle[0]) / 4) ** 2 + ((j - middle[1]) / 8) ** 2 + \
        ((k - middle[2]) / 9) ** 2 <= 1
    nibabel.save(nibabel.Nifti1Image(inside.astype(np.uint8), affine), "mask.nii.gz")
    return "scan.nii.gz", "mask.nii.gz", nibabel.load("scan.nii.gz").affine


def names_of(**settings):
    return list(HaralickFeaturizer(volume=True, **settings).get_feature_names_out())


@pytest.mark.parametrize("masked_window", [True, False])
def test_nifti_maps_are_texture_maps_on_the_scan_grid(capsys, scan, masked_window):
    image, mask, affine = scan
    flag = "--masked-window" if masked_window else "--no-masked-window"
    code, out, err = cli(capsys, "map", image, "--volume", "--mask", mask, flag, *OPTIONS,
                         "-o", "maps.nii.gz")
    assert code == 0, err
    expected = texture_maps(image, 3, volume=True, mask=mask, masked_window=masked_window,
                            **SETTINGS)
    written = nibabel.load("maps.nii.gz")
    # load_volume reads a NIfTI file's axes i, j, k as stored: the maps keep them, the
    # features on the fourth axis
    assert written.shape == (8, 20, 22, 26) == expected.shape
    assert written.get_data_dtype() == np.float64
    np.testing.assert_array_equal(np.asarray(written.dataobj), expected)
    np.testing.assert_array_equal(written.affine, affine)
    inside = np.asarray(nibabel.load(mask).dataobj) != 0
    data = np.asarray(written.dataobj)
    assert np.isnan(data[~inside]).all() and np.isfinite(data[inside]).all(axis=1).any()
    with open("maps.nii.gz.json", encoding="utf-8") as f:
        sidecar = json.load(f)
    assert sidecar["feature_names"] == names_of(**SETTINGS)
    assert (sidecar["window"], sidecar["masked_window"]) == (3, masked_window)
    assert "maps.nii.gz.json" in out and "8 x 20 x 22 maps of 26 features" in out
    assert "Mapping" in err  # the progress line


def test_kept_columns_step_and_uncompressed_nifti(capsys, scan):
    image, mask, affine = scan
    code, _, err = cli(capsys, "map", image, "--volume", "--mask", mask, *OPTIONS,
                       "--aggregate", "mean", "--features", "skimage", "skimage_e*",
                       "--step", "2", "-o", "maps.nii")
    assert code == 0, err
    settings = dict(features="skimage", bin_width=25, aggregate="mean")
    names = names_of(**settings)
    keep = [k for k, name in enumerate(names) if name.startswith("skimage_e")]
    assert len(keep) == 2  # energy, entropy
    expected = texture_maps(image, 3, volume=True, mask=mask, step=2, **settings)[..., keep]
    written = nibabel.load("maps.nii")
    assert written.shape == (4, 10, 11, 2)
    np.testing.assert_array_equal(np.asarray(written.dataobj), expected)
    # output voxel (i, j, k) is the scan's voxel (2i, 2j, 2k)
    np.testing.assert_array_equal(written.affine, affine @ np.diag([2.0, 2.0, 2.0, 1.0]))
    with open("maps.nii.json", encoding="utf-8") as f:
        assert json.load(f)["feature_names"] == [names[k] for k in keep]


def test_nrrd_maps_carry_the_geometry_both_ways(capsys, scan):
    nrrd = pytest.importorskip("nrrd")
    from haralick_learn.io.decode import volume_affine

    image, mask, affine = scan
    code, _, err = cli(capsys, "map", image, "--volume", "--mask", mask, *OPTIONS,
                       "-o", "maps.nrrd")
    assert code == 0, err
    expected = texture_maps(image, 3, volume=True, mask=mask, **SETTINGS)
    data, header = nrrd.read("maps.nrrd")
    # the features first, as a vector image: (feature, i, j, k)
    assert header["kinds"] == ["list", "domain", "domain", "domain"]
    np.testing.assert_array_equal(np.moveaxis(data, 0, -1), expected)
    np.testing.assert_allclose(volume_affine("maps.nrrd"), affine, rtol=0, atol=1e-12)
    with open("maps.nrrd.json", encoding="utf-8") as f:
        assert json.load(f)["feature_names"] == names_of(**SETTINGS)

    # an NRRD scan and mask (LPS, as 3D Slicer writes them) give NIfTI maps in RAS+
    lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine
    geometry = {"space": "left-posterior-superior", "space directions": lps[:3, :3].T,
                "space origin": lps[:3, 3]}
    nrrd.write("scan.nrrd", np.asarray(nibabel.load(image).dataobj), geometry)
    nrrd.write("mask.nrrd", np.asarray(nibabel.load(mask).dataobj), geometry)
    code, _, err = cli(capsys, "map", "scan.nrrd", "--volume", "--mask", "mask.nrrd", *OPTIONS,
                       "-o", "from_nrrd.nii.gz")
    assert code == 0, err
    written = nibabel.load("from_nrrd.nii.gz")
    np.testing.assert_array_equal(np.asarray(written.dataobj), expected)
    np.testing.assert_allclose(written.affine, affine, rtol=0, atol=1e-12)
    assert written.header.get_xyzt_units()[0] == "mm"


def test_npy_and_zarr_keep_the_volume_axes(capsys, scan):
    image, mask, _ = scan
    expected = texture_maps(image, 3, volume=True, mask=mask, **SETTINGS)
    code, _, err = cli(capsys, "map", image, "--volume", "--mask", mask, *OPTIONS,
                       "-o", "maps.npy")
    assert code == 0, err
    np.testing.assert_array_equal(np.load("maps.npy"), expected)
    zarr = pytest.importorskip("zarr")
    pytest.importorskip("dask.array")
    code, _, err = cli(capsys, "map", image, "--volume", "--mask", mask, *OPTIONS,
                       "-o", "maps.zarr")
    assert code == 0, err
    np.testing.assert_array_equal(zarr.open("maps.zarr")[:], expected)
    with open(os.path.join("maps.zarr", "feature_names.txt"), encoding="utf-8") as f:
        assert f.read().split() == names_of(**SETTINGS)


def test_a_volume_without_geometry_gets_unit_voxels_and_a_warning(capsys, scan):
    tifffile = pytest.importorskip("tifffile")
    image, _, _ = scan
    voxels = np.asarray(nibabel.load(image).dataobj)
    tifffile.imwrite("stack.tif", voxels, photometric="minisblack")
    code, _, err = cli(capsys, "map", "stack.tif", "--volume", *OPTIONS, "-o", "maps.nii.gz")
    assert code == 0, err
    assert "does not place its voxels in space" in err
    written = nibabel.load("maps.nii.gz")
    np.testing.assert_array_equal(written.affine, np.eye(4))
    np.testing.assert_array_equal(np.asarray(written.dataobj),
                                  texture_maps(voxels, 3, volume=True, **SETTINGS))


@pytest.mark.parametrize("name", ["scan.nii.gz", "scan.nrrd", "stack.tif"])
def test_a_volume_too_large_for_memory_is_refused_from_its_header(capsys, scan, monkeypatch,
                                                                   name):
    # The shape comes from the file's header, before any voxel is read: NIfTI, NRRD and TIFF
    from haralick_learn.cli import maps as command

    voxels = np.asarray(nibabel.load(scan[0]).dataobj)
    if name.endswith(".nrrd"):
        pytest.importorskip("nrrd").write(name, voxels)
    elif name.endswith(".tif"):
        pytest.importorskip("tifffile").imwrite(name, voxels, photometric="minisblack")
    monkeypatch.setattr(command, "available_memory", lambda: 1000)
    before = folder()
    code, out, err = cli(capsys, "map", name, "--volume", *OPTIONS, "-o", "maps.npy")
    assert code == 1 and not out
    assert f"mapping {name!r} (8 x 20 x 22 voxels) needs about" in err, err
    assert folder() == before


def folder():
    return sorted(os.listdir("."))


@pytest.mark.parametrize("name", ["cut.nii", "cut.nrrd"])
@pytest.mark.parametrize("output", ["maps.nii.gz", "maps.nrrd"])
def test_a_volume_whose_header_is_damaged_is_one_error_line_naming_it(capsys, scan, name,
                                                                       output):
    """The maps' geometry is read from the header before the voxels: a damaged header is the
    same one line naming the file as when the voxels are read, not a traceback."""
    voxels = np.asarray(nibabel.load(scan[0]).dataobj)
    if name.endswith(".nrrd"):
        pytest.importorskip("nrrd").write(name, voxels)
        header = open(name, "rb").read().split(b"\n\n")[0]
        content = header.replace(b"\nsizes:", b"\nsizes")  # a field without its ':'
    else:
        nibabel.save(nibabel.Nifti1Image(voxels, scan[2]), name)
        content = open(name, "rb").read()[:200]  # cut inside its 348-byte header
    with open(name, "wb") as f:
        f.write(content)
    before = folder()
    code, out, err = cli(capsys, "map", name, "--volume", *OPTIONS, "-o", output)
    assert code == 1 and not out
    assert err.startswith(f"haralick-learn map: error: {name!r}: cannot read a volume") and \
        err.count("\n") == 1, err
    assert folder() == before


@pytest.mark.parametrize("argv, message", [
    (["--volume", "-o", "maps.tif"], "a .tif holds a 2-D image's maps"),
    (["--volume", "-o", "maps.h5"], "must end in .nii, .nii.gz, .nrrd, .npy or .zarr"),
    (["-o", "maps.nii.gz"], "NIfTI and NRRD hold a volume's maps: add --volume"),
    (["--volume", "-o", "maps.npy", "--preview", "maps.png"], "--preview draws a 2-D image"),
])
def test_formats_that_do_not_fit_are_refused_before_any_work(capsys, scan, argv, message):
    before = folder()
    code, _, err = cli(capsys, "map", scan[0], *argv)
    assert code == 1 and message in err, err
    assert folder() == before


def test_a_failed_run_leaves_no_output(capsys, scan, monkeypatch):
    image, mask, affine = scan
    before = folder()
    # a mask on another voxel grid (shifted by 3 voxels) is refused while the scan is read
    shifted = affine @ np.array([[1, 0, 0, 3], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])
    nibabel.save(nibabel.Nifti1Image(np.asarray(nibabel.load(mask).dataobj), shifted),
                 "moved.nii.gz")
    code, _, err = cli(capsys, "map", image, "--volume", "--mask", "moved.nii.gz", *OPTIONS,
                       "-o", "maps.nii.gz")
    assert code == 1 and "lies on another voxel grid" in err, err
    assert folder() == sorted([*before, "moved.nii.gz"])

    # interrupted while the maps are written: neither the maps, nor their sidecar, nor a
    # temporary; and the maps of an earlier run stay whole
    from haralick_learn.cli import maps as command

    code, _, err = cli(capsys, "map", image, "--volume", "--mask", mask, *OPTIONS,
                       "-o", "maps.nii.gz")
    assert code == 0, err
    earlier = {name: open(name, "rb").read() for name in ("maps.nii.gz", "maps.nii.gz.json")}
    for output in ("maps.nii.gz", "other.nii.gz"):
        def interrupted(f, *args):
            f.write(b"\0" * 1000)
            raise KeyboardInterrupt

        monkeypatch.setattr(command, "_write_nifti", interrupted)
        present = folder()
        code, _, err = cli(capsys, "map", image, "--volume", "--mask", mask, *OPTIONS,
                           "--aggregate", "mean", "-o", output)
        assert code == 130, err
        assert folder() == present
    for name, content in earlier.items():
        assert open(name, "rb").read() == content


def test_new_sidecar_never_sits_beside_earlier_maps(capsys, scan, monkeypatch):
    """Rerun with other settings over an earlier output, stopped between the two renames.

    What is on disk at that instant is what a killed run leaves: the new sidecar
    may be there, but not beside the earlier maps (the pair would look complete).
    """
    image, mask, _ = scan
    code, _, err = cli(capsys, "map", image, "--volume", "--mask", mask, *OPTIONS,
                       "-o", "maps.nii.gz")
    assert code == 0, err
    maps_path = os.path.realpath("maps.nii.gz")
    replace = os.replace
    seen = []

    def stopped(source, target):
        if target == maps_path:  # what a run killed now would leave
            seen.append([name for name in folder() if name.startswith("maps")])
            with open("maps.nii.gz.json", encoding="utf-8") as f:
                seen.append(json.load(f)["parameters"]["aggregate"])
            raise KeyboardInterrupt
        replace(source, target)

    monkeypatch.setattr(os, "replace", stopped)
    code, _, err = cli(capsys, "map", image, "--volume", "--mask", mask, *OPTIONS,
                       "--aggregate", "mean", "-o", "maps.nii.gz")
    assert code == 130, err
    assert seen == [["maps.nii.gz.json"], "mean"]  # the new sidecar, alone
    assert folder() == ["mask.nii.gz", "scan.nii.gz"]  # the sidecar removed, no temporary

    # uninterrupted, the rerun replaces both and keeps the earlier maps' permissions
    monkeypatch.setattr(os, "replace", replace)
    code, _, err = cli(capsys, "map", image, "--volume", "--mask", mask, *OPTIONS,
                       "-o", "maps.nii.gz")
    assert code == 0, err
    os.chmod("maps.nii.gz", 0o640)
    code, _, err = cli(capsys, "map", image, "--volume", "--mask", mask, *OPTIONS,
                       "--aggregate", "mean", "-o", "maps.nii.gz")
    assert code == 0, err
    assert nibabel.load("maps.nii.gz").shape[-1] == 2
    with open("maps.nii.gz.json", encoding="utf-8") as f:
        assert json.load(f)["feature_names"] == names_of(aggregate="mean", **SETTINGS)
    assert os.stat("maps.nii.gz").st_mode & 0o777 == 0o640


def test_a_mask_maps_an_image_inside_it_only(capsys, tmp_path, monkeypatch):
    from PIL import Image
    from skimage import data

    monkeypatch.chdir(tmp_path)
    camera = data.camera()[100:160, 200:260]
    Image.fromarray(camera).save("camera.png")
    Image.fromarray(((camera > 100) * 255).astype(np.uint8)).save("mask.png")
    code, _, err = cli(capsys, "map", "camera.png", "--mask", "mask.png", "--window", "5",
                       "--features", "ibsi_Contrast", "--bin-width", "16", "-o", "maps.npy")
    assert code == 0, err
    expected = texture_maps("camera.png", 5, mask="mask.png", features="ibsi_Contrast",
                            bin_width=16)
    np.testing.assert_array_equal(np.load("maps.npy"), expected)
    assert np.isnan(expected[camera <= 100]).all()
    # a 2-D .zarr store is computed in tiles of the levels rule: binning over the whole
    # image or a mask needs it in memory
    code, _, err = cli(capsys, "map", "camera.png", "--mask", "mask.png", "-o", "maps.zarr")
    assert code == 1 and "tile by tile with the --levels binning only" in err
    assert not os.path.exists("maps.zarr")
