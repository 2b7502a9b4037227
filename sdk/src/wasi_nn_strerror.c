/* wasi_nn_strerror.c: names of the wasi-nn error codes. Kept apart from the
 * import wrappers so native tests can replace the wrappers with a mock
 * backend and still use these messages. */
#include "wasmlet/wasi_nn.h"

const char *wl_nn_strerror(int err) {
    switch (err) {
    case WL_NN_SUCCESS: return "success";
    case WL_NN_INVALID_ARGUMENT: return "invalid argument";
    case WL_NN_INVALID_ENCODING: return "invalid encoding (bad JSON or unsupported model format)";
    case WL_NN_MISSING_MEMORY: return "missing memory";
    case WL_NN_BUSY: return "busy";
    case WL_NN_RUNTIME_ERROR: return "runtime error in the host's backend";
    case WL_NN_UNSUPPORTED_OPERATION: return "operation not supported by the host";
    case WL_NN_TOO_LARGE: return "output larger than the buffer";
    case WL_NN_NOT_FOUND: return "not found";
    case WL_NN_END_OF_SEQUENCE: return "end of sequence";
    case WL_NN_CONTEXT_FULL: return "context full";
    case WL_NN_PROMPT_TOO_LONG: return "prompt too long for the context";
    case WL_NN_MODEL_NOT_FOUND: return "model not found (no such alias or file on the host)";
    default: return "unknown wasi-nn error";
    }
}
