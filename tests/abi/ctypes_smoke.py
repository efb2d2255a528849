"""Loads the library with ctypes (standard library only) and calls the version and error
functions, the way a Python host would. Usage: ctypes_smoke.py LIB"""
import ctypes
import sys

lib = ctypes.CDLL(sys.argv[1])
lib.negs_version_string.restype = ctypes.c_char_p
lib.negs_version_number.restype = ctypes.c_uint
lib.negs_status_name.restype = ctypes.c_char_p
lib.negs_status_name.argtypes = [ctypes.c_int]
lib.negs_last_error.restype = ctypes.c_char_p
lib.negs_csr_create.restype = ctypes.c_void_p
lib.negs_csr_create.argtypes = [ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p,
                                ctypes.c_void_p]
lib.negs_last_status.restype = ctypes.c_int

version = lib.negs_version_string().decode()
major, minor, patch = (int(x) for x in version.split("."))
assert lib.negs_version_number() == major * 10000 + minor * 100 + patch, version
assert lib.negs_status_name(-1) == b"NEGS_E_INVALID"
assert lib.negs_status_name(12345) == b"NEGS_UNKNOWN"

# A failing call from Python leaves a sentence naming the argument.
assert lib.negs_csr_create(3, 10, None, None) is None
message = lib.negs_last_error().decode()
assert "indptr" in message and message.startswith("NEGS_E_INVALID"), message
assert lib.negs_last_status() == -1
print(f"check-python: ctypes loaded libnegsample {version}; last error: {message!r}")
