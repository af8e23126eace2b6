"""IBSI's six aggregations of a volume against the IBSI 1 digital phantom's consensus values.

The phantom, its mask and the reference values are IBSI's own (CC BY 4.0; see
``tests/data/ibsi/README.md``). nibabel reads them as ``(x, y, z)``; IBSI's slices
lie along z, and ``volume="2d"`` / ``"2.5d"`` take the slices along axis 0, so
the arrays are transposed to ``(z, y, x)``. The phantom needs no discretisation:
each gray level is its own bin (``bin_width=1``, bins counted from the ROI's
minimum, 1, so that the levels are the voxel values 1, 3, 4, 6 and N_g = 6).
IBSI's match rule: the value rounded to 3 significant digits equals the reference.
"""

import csv
import os

import numpy as np
import pytest

from haralick_learn import HaralickFeaturizer

nibabel = pytest.importorskip("nibabel")

DATA = os.path.join(os.path.dirname(__file__), "data", "ibsi")

#: IBSI's aggregation (MIRP's suffix in the reference table) -> (volume, aggregate).
AGGREGATIONS = {
    "2D_avg": ("2d", "mean"),        # 2D:avg
    "2D_comb": ("2d", "merged"),     # 2D:smrg
    "2_5D_avg": ("2.5d", "mean"),    # 2.5D:dmrg
    "2_5D_comb": ("2.5d", "merged"),  # 2.5D:mrg
    "3D_avg": ("3d", "mean"),        # 3D:avg
    "3D_comb": ("3d", "merged"),     # 3D:mrg
}

#: IBSI's feature tags -> the ``ibsi_*`` features (pyradiomics's names). IBSI's
#: dissimilarity is its difference average. Left out: cm.sum.var (IBSI's sum
#: variance), which pyradiomics, and so this feature set, does not compute.
IBSI_TAGS = {
    "cm.joint.max": "MaximumProbability", "cm.joint.avg": "JointAverage",
    "cm.joint.var": "SumSquares", "cm.joint.entr": "JointEntropy",
    "cm.diff.avg": "DifferenceAverage", "cm.diff.var": "DifferenceVariance",
    "cm.diff.entr": "DifferenceEntropy", "cm.sum.avg": "SumAverage",
    "cm.sum.entr": "SumEntropy", "cm.energy": "JointEnergy", "cm.contrast": "Contrast",
    "cm.dissimilarity": "DifferenceAverage", "cm.inv.diff": "Id", "cm.inv.diff.norm": "Idn",
    "cm.inv.diff.mom": "Idm", "cm.inv.diff.mom.norm": "Idmn",
    "cm.inv.var": "InverseVariance", "cm.corr": "Correlation",
    "cm.auto.corr": "Autocorrelation", "cm.clust.tend": "ClusterTendency",
    "cm.clust.shade": "ClusterShade", "cm.clust.prom": "ClusterProminence",
    "cm.info.corr.1": "Imc1", "cm.info.corr.2": "Imc2",
}
NOT_COMPUTED = {"cm.sum.var"}


def _reference():
    with open(os.path.join(DATA, "ibsi_1_glcm_dig_phantom.csv"), newline="") as f:
        return list(csv.DictReader(f))


REFERENCE = _reference()


@pytest.fixture(scope="module")
def phantom():
    image = nibabel.load(os.path.join(DATA, "phantom.nii.gz")).get_fdata()
    mask = nibabel.load(os.path.join(DATA, "mask.nii.gz")).get_fdata() > 0
    return image.transpose(2, 1, 0), mask.transpose(2, 1, 0)


@pytest.fixture(scope="module")
def rows(phantom):
    out = {}
    for suffix, (volume, aggregate) in AGGREGATIONS.items():
        featurizer = HaralickFeaturizer(features="ibsi", volume=volume, aggregate=aggregate,
                                        bin_width=1)
        row = featurizer.fit_transform([phantom])[0]
        out[suffix] = {name.split("_")[1]: value
                       for name, value in zip(featurizer.get_feature_names_out(), row)}
    return out


def test_every_reference_row_is_mapped_or_named_as_not_computed():
    tags = {row["ibsi_tag"] for row in REFERENCE}
    assert tags == set(IBSI_TAGS) | NOT_COMPUTED
    assert {row["mirp_suffix"] for row in REFERENCE} == set(AGGREGATIONS)
    assert len(REFERENCE) == 25 * 6


@pytest.mark.parametrize("suffix", sorted(AGGREGATIONS))
def test_aggregation_matches_ibsi_consensus_values(rows, suffix):
    mismatches = []
    for ref in REFERENCE:
        if ref["mirp_suffix"] != suffix or ref["ibsi_tag"] in NOT_COMPUTED:
            continue
        value = rows[suffix][IBSI_TAGS[ref["ibsi_tag"]]]
        if float(f"{value:.3g}") != float(ref["value"]):
            mismatches.append(f"{ref['ibsi_tag']}: {value:.6g} != {ref['value']}")
    assert not mismatches, f"{suffix} ({', '.join(AGGREGATIONS[suffix])}): {mismatches}"


def test_the_six_aggregations_differ(rows):
    # the phantom tells them apart: every mode is a different computation
    values = {suffix: rows[suffix]["JointEntropy"] for suffix in AGGREGATIONS}
    assert len({round(v, 6) for v in values.values()}) == 6, values


def test_the_slices_are_along_axis_0(phantom):
    # the phantom read untransposed (slices along x) no longer matches IBSI's 2D:avg
    image, mask = phantom
    featurizer = HaralickFeaturizer(features="ibsi", volume="2d", aggregate="mean", bin_width=1)
    row = featurizer.fit_transform([(image.transpose(2, 1, 0), mask.transpose(2, 1, 0))])[0]
    names = [name.split("_")[1] for name in featurizer.get_feature_names_out()]
    reference = next(float(r["value"]) for r in REFERENCE
                     if r["mirp_suffix"] == "2D_avg" and r["ibsi_tag"] == "cm.joint.entr")
    assert float(f"{row[names.index('JointEntropy')]:.3g}") != reference
    assert np.isfinite(row).all()
