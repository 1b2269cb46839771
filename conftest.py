"""Makes the built `synod` Python module importable in every test folder:
$SYNOD_BUILD/pybindings (make test sets SYNOD_BUILD), else build/pybindings."""
import os
import sys

_BUILD = os.environ.get("SYNOD_BUILD", os.path.join(os.path.dirname(os.path.abspath(__file__)), "build"))
sys.path.insert(0, os.path.join(_BUILD, "pybindings"))
