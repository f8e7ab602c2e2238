/* placeholder until the wire module lands */
#include "proto/wire.h"
