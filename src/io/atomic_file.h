// Transitional: the atomic file helpers moved to core/file.h (every tier may use them).
#pragma once
#include "core/file.h"
