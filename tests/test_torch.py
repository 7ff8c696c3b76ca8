"""PyTorch in: torch.export -> Relax -> TensorRT partition, numbers checked against torch."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tvm  # noqa: E402
from tvm import relax  # noqa: E402

import tvm_trt  # noqa: E402
from tvm_trt.frontend import from_torch  # noqa: E402


class SmallNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.fc = torch.nn.Linear(8, 4)

    def forward(self, x):
        y = torch.relu(self.bn(self.conv(x)))
        y = torch.nn.functional.adaptive_avg_pool2d(y, 1).flatten(1)
        return torch.softmax(self.fc(y), dim=1)


def test_from_torch_offloads_and_matches():
    torch.manual_seed(0)
    net = SmallNet().eval()
    x = torch.randn(2, 3, 16, 16)
    mod, params = from_torch(net, (x,))
    assert params and all(isinstance(v, np.ndarray) for v in params.values())
    report = tvm_trt.partition_report(mod, params)
    assert report.ops_offloaded > 0 and "relax.nn.conv2d" in report.per_op
    pmod, _ = tvm_trt.partition_for_tensorrt(mod, params)
    vm = relax.VirtualMachine(tvm_trt.build(pmod, "llvm"), tvm.cpu())
    got = vm["main"](tvm.runtime.tensor(x.numpy()))
    got = got.numpy() if isinstance(got, tvm.runtime.Tensor) else got[0].numpy()
    with torch.no_grad():
        want = net(x).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_from_torch_rejects_non_module():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        from_torch(lambda x: x, (torch.zeros(1),))
