import pytest

from ganlab.errors import ConfigError
from ganlab.registry import Registry


def test_registry_get_and_errors():
    reg: Registry[int] = Registry("widget")
    reg.add("alpha", 1, "the first")

    @reg.register("beta", help="the second")
    def beta() -> int:
        return 2

    assert reg.get("alpha") == 1 and reg.get("beta")() == 2
    assert reg.names() == ["alpha", "beta"] and "alpha" in reg and reg.help("beta") == "the second"
    with pytest.raises(ConfigError) as e:
        reg.get("alpah")
    assert str(e.value) == "unknown widget 'alpah'; valid names: alpha, beta (did you mean 'alpha'?)"
    with pytest.raises(KeyError, match="registered twice"):
        reg.add("alpha", 3)
