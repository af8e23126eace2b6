"""
=======================================================
A NIfTI volume and its mask, as radiomics files come
=======================================================

Radiomics data comes as files: a scan (a NIfTI ``.nii.gz``) and the outline of
a region of interest, a mask volume on the same voxel grid. A sample of
:class:`~haralick_learn.HaralickFeaturizer` with ``volume=True`` may be such a
pair of paths, ``(volume_path, mask_path)``: nibabel reads both, the mask's
grid is checked against the volume's, and only the pairs of voxels both
inside the mask count. Here a volume built from a real photograph, two masks
(its objects and its background), featurized with mahotas's features and
with pyradiomics's (IBSI) features and fixed bin width.

Requires nibabel (``pip install "haralick_learn[volumes]"``) and scikit-image.
"""

# %%
# A volume and two masks, written as NIfTI files
# ----------------------------------------------
# scikit-image's ``coins`` photograph, a stack of 12 crops each 2 rows below
# the previous one, stands for a scan of 12 slices. Otsu's threshold of the
# volume outlines the coins; the background is the rest. The volume and the
# masks share one affine (2 mm between slices, 0.5 mm pixels), as a scan and
# its segmentation do, and are written to a temporary folder.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import nibabel as nib
import numpy as np
import pandas as pd
from scipy import ndimage
from skimage import data
from skimage.filters import threshold_otsu

from haralick_learn import HaralickFeaturizer

coins = data.coins()
volume = np.stack([coins[2 * k:2 * k + 192, 40:296] for k in range(12)])  # 12 x 192 x 256


def outline(plane):
    """The coins of one slice: closed, their holes filled, specks removed."""
    closed = ndimage.binary_closing(plane, iterations=3)
    return ndimage.binary_opening(ndimage.binary_fill_holes(closed), iterations=3)


objects = np.stack([outline(plane) for plane in volume > threshold_otsu(volume)])
masks = {"coins": objects, "background": ~objects}

folder = Path(tempfile.mkdtemp(prefix="haralick_nifti_"))
affine = np.diag([2.0, 0.5, 0.5, 1.0])
nib.save(nib.Nifti1Image(volume, affine), folder / "scan.nii.gz")
samples = []
for name, mask in masks.items():
    nib.save(nib.Nifti1Image(mask.astype(np.uint8), affine), folder / f"{name}.nii.gz")
    samples.append((str(folder / "scan.nii.gz"), str(folder / f"{name}.nii.gz")))
    print(f"{name:10s} mask: {mask.sum():6d} of {mask.size} voxels")

# %%
# The volume's middle slice, the coins' mask outlined
# ---------------------------------------------------
fig, ax = plt.subplots(figsize=(5, 4), layout="constrained")
ax.imshow(volume[6], cmap="gray")
ax.contour(objects[6], levels=[0.5], colors="red", linewidths=0.8)
ax.set_title("slice 6 of 12, the coins' mask in red")
ax.axis("off")
plt.show()

# %%
# Features of each region, from the files
# ---------------------------------------
# With ``volume=True`` the row is mahotas's: 13 features for each of the 13
# 3-D directions; ``aggregate="mean"`` averages the directions. The gray
# levels come from the voxels inside the mask only. The coins' relief is the
# rougher texture: a higher contrast and entropy, a lower correlation.
haralick = HaralickFeaturizer(volume=True, aggregate="mean")
rows = pd.DataFrame(haralick.fit_transform(samples), index=list(masks),
                    columns=haralick.get_feature_names_out())
print(rows[["contrast_mean_d1", "entropy_mean_d1", "correlation_mean_d1"]])

# %%
# Reading the files changes nothing: the same volume and mask given as arrays
# give the same row.
in_memory = haralick.transform([(volume, objects)])
print("files and arrays give the same row:", np.array_equal(in_memory[0], rows.iloc[0]))

# %%
# pyradiomics's features, with a fixed bin width
# ----------------------------------------------
# ``features="ibsi"`` computes pyradiomics's 24 GLCM features (IBSI names);
# ``bin_width=25`` bins the intensities as pyradiomics's ``binWidth`` does,
# so that a level means the same intensities in every scan.
ibsi = HaralickFeaturizer(volume=True, features="ibsi", bin_width=25, aggregate="mean")
radiomics = pd.DataFrame(ibsi.fit_transform(samples), index=list(masks),
                         columns=ibsi.get_feature_names_out())
print(f"{radiomics.shape[1]} features, e.g.:")
print(radiomics[["ibsi_Contrast_mean_d1", "ibsi_JointEntropy_mean_d1", "ibsi_Idmn_mean_d1"]])
