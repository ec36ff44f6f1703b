"""The shared reference table (reference_diffusivities.py) against the library."""
import numpy as np
import pytest

import pdeblocks as pdb
from reference_diffusivities import REFERENCE


def test_the_table_names_exactly_the_library_kinds():
    assert sorted(REFERENCE) == sorted(pdb.DIFFUSIVITIES)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_g_flux_derivative_sup_g_and_lipschitz_match_the_table(name):
    ref, lam = REFERENCE[name], 0.7
    g = pdb.Diffusivity(name, lam)
    s = np.linspace(-6, 6, 401)
    np.testing.assert_allclose(g.g(s * s), ref.g(s * s, lam), rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(g.flux_derivative(s), ref.flux_derivative(s, lam), rtol=0, atol=1e-14)
    assert g.sup_g == ref.sup_g
    assert ref.lipschitz <= g.lipschitz <= ref.lipschitz * (1 + 1e-11)
