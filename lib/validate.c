#include "lib/validate.h"
