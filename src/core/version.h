/* version.h - the release version and the hub<->agent protocol version. */
#ifndef POSTERN_CORE_VERSION_H
#define POSTERN_CORE_VERSION_H

#define POSTERN_VERSION "0.1.0-dev"

#endif
