"""Voxel-based texture maps of volumes: pyradiomics's voxel-based GLCM, and the featurizer.

The volume is real: nibabel's test MR image ``anatomical.nii`` (int16, shipped
with nibabel), cropped; the mask an ellipsoid drawn inside it. The references:

* pyradiomics's ``RadiomicsGLCM(voxelBased=True)`` with ``voxelBatch=1`` (its
  default batching puts NaN in JointAverage where a window lacks a direction
  and keeps MCC at 0 for the whole batch), kernelRadius 1 and 2, with and
  without ``maskedKernel``: all its 24 features, to 1e-10 relative (marker
  ``pyradiomics``: ``.ci/run`` installs it and runs these);
* ``HaralickFeaturizer(volume=True)`` on each voxel's window crop of the
  volume's levels, with the mask.
"""

import os

import numpy as np
import pytest

from haralick_learn import HaralickFeaturizer, texture_maps
from haralick_learn.preprocess.quantize import quantize
from haralick_learn._settings import TextureSettings

BIN_WIDTH = 1000  # about 30 bins over the MR volume's intensities


@pytest.fixture(scope="module")
def mr_volume():
    nibabel = pytest.importorskip("nibabel")
    path = os.path.join(os.path.dirname(nibabel.__file__), "tests", "data", "anatomical.nii")
    if not os.path.exists(path):
        pytest.skip("this nibabel install ships no anatomical.nii")
    volume = np.asarray(nibabel.load(path).dataobj).astype(np.int16)
    volume = np.ascontiguousarray(volume.transpose(2, 0, 1)[8:16, 5:25, 8:30])
    z, y, x = np.indices(volume.shape)
    centre = np.array(volume.shape) / 2
    mask = (((z - centre[0]) / 4.5) ** 2 + ((y - centre[1]) / 9) ** 2
            + ((x - centre[2]) / 10) ** 2 <= 1)
    return volume, mask


@pytest.mark.pyradiomics
@pytest.mark.parametrize("radius", [1, 2])
@pytest.mark.parametrize("masked", [True, False], ids=["masked_kernel", "whole_kernel"])
def test_voxel_maps_equal_pyradiomics_voxel_based(mr_volume, radius, masked):
    sitk = pytest.importorskip("SimpleITK")
    glcm = pytest.importorskip("radiomics.glcm")
    volume, mask = mr_volume
    extractor = glcm.RadiomicsGLCM(
        sitk.GetImageFromArray(volume), sitk.GetImageFromArray(mask.astype(np.uint8)),
        voxelBased=True, kernelRadius=radius, maskedKernel=masked, binWidth=BIN_WIDTH,
        voxelBatch=1)
    extractor.enableAllFeatures()
    reference = extractor.execute()
    maps = texture_maps(volume, 2 * radius + 1, volume=True, mask=mask, masked_window=masked,
                        features="ibsi", bin_width=BIN_WIDTH, aggregate="mean")
    assert maps.shape == volume.shape + (24,)
    assert np.isnan(maps[~mask]).all()
    names = HaralickFeaturizer(features="ibsi", aggregate="mean").get_feature_names_out()
    assert sorted(reference) == sorted(n[len("ibsi_"):-len("_mean_d1")] for n in names)
    for k, name in enumerate(names):
        expected = sitk.GetArrayFromImage(reference[name[len("ibsi_"):-len("_mean_d1")]])[mask]
        # MCC, the sqrt of an eigenvalue: a direction whose eigenvalue is 0 has the sqrt of
        # its rounding on each side, up to about 1e-8 (pyradiomics's own moves by as much
        # with the BLAS kernel); a mean of 13 directions, up to about 1e-9
        atol = 1e-8 if name.startswith("ibsi_MCC") else 1e-12
        np.testing.assert_allclose(maps[..., k][mask], expected, rtol=1e-10, atol=atol,
                                   err_msg=name)


@pytest.mark.parametrize("params", [
    dict(features="ibsi", bin_width=BIN_WIDTH, aggregate="mean"),
    dict(features="skimage", levels=32, aggregate="mean_ptp"),
    dict(levels=16, aggregate="merged", ignore_zeros=True),
], ids=["ibsi", "skimage", "haralick_merged"])
def test_voxel_maps_equal_the_featurizer_on_each_window(mr_volume, params):
    volume, mask = mr_volume
    maps = texture_maps(volume, 3, volume=True, mask=mask, **params)
    levels = quantize(volume, TextureSettings.from_params(volume=True, **params), mask)
    featurizer = HaralickFeaturizer(volume=True, **{k: v for k, v in params.items()
                                                    if k not in ("bin_width", "levels")})
    names = featurizer.get_feature_names_out().astype(str)
    own_levels = np.char.startswith(names, "ibsi_Idn") | np.char.startswith(names, "ibsi_Idmn")
    checked = 0
    for z, y, x in list(zip(*np.nonzero(mask)))[::53]:
        box = tuple(slice(max(0, c - 1), c + 2) for c in (z, y, x))
        try:
            row = featurizer.transform([(levels[box].astype(np.uint8), mask[box])])[0]
        except ValueError:  # no pair inside the mask at some distance: the map says NaN
            assert np.isnan(maps[z, y, x]).all()
            continue
        # IBSI's Idn and Idmn divide by the volume's N_g (pyradiomics's), not the crop's
        np.testing.assert_allclose(maps[z, y, x][~own_levels], row[~own_levels], rtol=1e-9,
                                   atol=1e-12, err_msg=str((z, y, x)))
        checked += 1
    assert checked >= 20


def test_slices_of_a_volume_are_mapped_one_by_one_with_volume_2d(mr_volume):
    volume, _ = mr_volume
    maps = texture_maps(volume, 5, volume="2d", levels=32, aggregate="mean")
    assert maps.shape == volume.shape + (13,)
    levels = quantize(volume, TextureSettings.from_params(levels=32, volume=True))
    for z in (0, 5):
        np.testing.assert_array_equal(maps[z], texture_maps(levels[z].astype(np.uint8), 5,
                                                            aggregate="mean"))


def test_volume_modes_a_window_cannot_have_are_refused(mr_volume):
    volume, mask = mr_volume
    with pytest.raises(ValueError, match="'2.5d' merges a whole volume's slices"):
        texture_maps(volume, 3, volume="2.5d")
    with pytest.raises(ValueError, match="a volume must be 3-D, got shape"):
        texture_maps(volume[0], 3, volume=True)
    with pytest.raises(ValueError, match="mask selects no pixel"):
        texture_maps(volume, 3, volume=True, mask=np.zeros_like(mask))
