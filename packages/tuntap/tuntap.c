// tcpts TUN/TAP addon (Linux, plain Node-API in C).
//
// One JavaScript class, Device: it opens /dev/net/tun as a TUN (bare IP) or
// TAP (Ethernet) device without packet-information headers (IFF_NO_PI),
// optionally inside another network namespace, sets its MTU and brings it
// up; then it moves packets in batches (one call into C reads every packet
// waiting, one call writes a batch) and calls back into JavaScript when the
// host says the device is readable, or writable again after EAGAIN, through
// a libuv poll handle on the event loop. The file descriptor is non-blocking:
// nothing here ever blocks the event loop.
//
// What the TypeScript side (src/link/node/) relies on:
//   new Device(name, tap, mtu, up, netns, callback)  -> { fd, name, ... }
//   read(arena, lengths, space)   -> packets read; lengths[i] their sizes,
//                                    packed back to back in arena
//   write(arena, lengths, count, errors)
//                                 -> packets consumed (written, or refused
//                                    by the kernel with errors[i] = errno);
//                                    fewer than count when the device said
//                                    EAGAIN / ENOBUFS (try again when writable)
//   poll(events)                  -> 1 readable, 2 writable, 0 stop
//   setRef(bool), close()
//   callback(events)              -> events as poll(), or a negative errno
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#define EVENT_READABLE 1
#define EVENT_WRITABLE 2

typedef struct {
  napi_env env;
  int fd;
  // Created on the first poll() and closed with the device; freed in its
  // close callback, since libuv may still touch it until then.
  uv_poll_t *poll;
  int events;
  int refed;
  // Weak except while polling: an active device stays alive like any other
  // active handle, an idle one that nobody references is collected and its
  // descriptor closed.
  napi_ref self;
  napi_ref callback;
  napi_async_context async;
  char name[IFNAMSIZ];
} Device;

// A failure to report once the namespace is restored.
typedef struct {
  int err;
  const char *syscall;
  char message[512];
} Failure;

static void fail(Failure *f, int err, const char *syscall, const char *fmt, ...) {
  f->err = err;
  f->syscall = syscall;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->message, sizeof f->message, fmt, ap);
  va_end(ap);
}

// Throws an Error with Node's usual system-error fields: code ("ENOENT"),
// errno (negative, as Node reports it) and syscall.
static void throw_failure(napi_env env, const Failure *f) {
  napi_value code, message, error, value;
  const char *name = f->err > 0 ? uv_err_name(-f->err) : "ERR_TUNTAP";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, f->message, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  if (f->err > 0) {
    napi_create_int32(env, -f->err, &value);
    napi_set_named_property(env, error, "errno", value);
  }
  if (f->syscall != NULL) {
    napi_create_string_utf8(env, f->syscall, NAPI_AUTO_LENGTH, &value);
    napi_set_named_property(env, error, "syscall", value);
  }
  napi_throw(env, error);
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

// ---------------------------------------------------------------------------
// Opening

// Copies an interface name into a zeroed ifreq; names are checked to fit
// (at most IFNAMSIZ - 1 bytes) before they get here.
static void set_name(struct ifreq *ifr, const char *name) {
  size_t n = strnlen(name, IFNAMSIZ - 1);
  memcpy(ifr->ifr_name, name, n);
  ifr->ifr_name[n] = '\0';
}

// The sentence that says what is missing, for each way opening can fail.
static void open_failure(Failure *f, int err, const char *name, int tap) {
  const char *kind = tap ? "TAP" : "TUN";
  switch (err) {
  case ENOENT:
  case ENODEV:
  case ENXIO:
    fail(f, err, "open",
         "tcpts: /dev/net/tun is missing or has no driver (%s): load the tun module "
         "(modprobe tun), or give the container the device "
         "(docker run --device /dev/net/tun --cap-add NET_ADMIN)",
         strerror(err));
    return;
  case EACCES:
  case EPERM:
    fail(f, err, "open",
         "tcpts: no permission to open /dev/net/tun (%s): run as root, or give the process "
         "CAP_NET_ADMIN and access to the device",
         strerror(err));
    return;
  default:
    fail(f, err, "open", "tcpts: cannot open /dev/net/tun for %s device '%s': %s", kind, name,
         strerror(err));
  }
}

static void setiff_failure(Failure *f, int err, const char *name, int tap) {
  const char *kind = tap ? "TAP" : "TUN";
  switch (err) {
  case EPERM:
  case EACCES:
    fail(f, err, "ioctl",
         "tcpts: creating %s device '%s' needs CAP_NET_ADMIN: run as root or give the process "
         "CAP_NET_ADMIN (%s)",
         kind, name, strerror(err));
    return;
  case EBUSY:
    fail(f, err, "ioctl",
         "tcpts: %s device '%s' is busy: another process has it open (%s)", kind, name,
         strerror(err));
    return;
  case EINVAL:
    fail(f, err, "ioctl",
         "tcpts: '%s' cannot be opened as a %s device: the name is taken by a device of another "
         "kind, or is not a valid interface name (%s)",
         name, kind, strerror(err));
    return;
  default:
    fail(f, err, "ioctl", "tcpts: TUNSETIFF for %s device '%s' failed: %s", kind, name,
         strerror(err));
  }
}

// Sets the MTU and the up flag through an ordinary socket of the device's
// namespace (SIOCSIFMTU / SIOCSIFFLAGS, as `ip link set` does over netlink).
static int configure(Failure *f, const char *name, int mtu, int up) {
  if (mtu <= 0 && !up) return 0;
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    fail(f, errno, "socket", "tcpts: no socket to configure device '%s': %s", name,
         strerror(errno));
    return -1;
  }
  struct ifreq ifr;
  if (mtu > 0) {
    memset(&ifr, 0, sizeof ifr);
    set_name(&ifr, name);
    ifr.ifr_mtu = mtu;
    if (ioctl(s, SIOCSIFMTU, &ifr) < 0) {
      int err = errno;
      if (err == EINVAL)
        fail(f, err, "ioctl", "tcpts: device '%s' refuses MTU %d (TUN/TAP take 68..65535)",
             name, mtu);
      else
        fail(f, err, "ioctl", "tcpts: setting MTU %d on '%s' failed: %s", mtu, name,
             strerror(err));
      close(s);
      return -1;
    }
  }
  if (up) {
    memset(&ifr, 0, sizeof ifr);
    set_name(&ifr, name);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
        (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) < 0)) {
      int err = errno;
      fail(f, err, "ioctl", "tcpts: bringing device '%s' up failed: %s", name, strerror(err));
      close(s);
      return -1;
    }
  }
  close(s);
  return 0;
}

// Opens the device, inside `netns` when given. The device belongs to the
// namespace the descriptor was opened in (the tun driver takes it from the
// opener), so this thread enters the namespace for the open, the ioctls and
// the configuration, and leaves it again before any JavaScript runs.
static int open_device(Failure *f, char *name, int tap, int mtu, int up, const char *netns) {
  int home = -1;
  if (netns != NULL) {
    home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) {
      fail(f, errno, "open", "tcpts: cannot open this thread's network namespace: %s",
           strerror(errno));
      return -1;
    }
    int target = open(netns, O_RDONLY | O_CLOEXEC);
    if (target < 0) {
      int err = errno;
      if (err == ENOENT)
        fail(f, err, "open",
             "tcpts: network namespace '%s' does not exist (`ip netns add <name>` makes one)",
             netns);
      else
        fail(f, err, "open", "tcpts: cannot open network namespace '%s': %s", netns,
             strerror(err));
      close(home);
      return -1;
    }
    if (setns(target, CLONE_NEWNET) < 0) {
      int err = errno;
      if (err == EPERM)
        fail(f, err, "setns",
             "tcpts: entering network namespace '%s' needs CAP_SYS_ADMIN: run as root", netns);
      else
        fail(f, err, "setns", "tcpts: cannot enter network namespace '%s': %s", netns,
             strerror(err));
      close(target);
      close(home);
      return -1;
    }
    close(target);
  }

  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    open_failure(f, errno, name, tap);
  } else {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = (tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI;
    set_name(&ifr, name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
      setiff_failure(f, errno, name, tap);
      close(fd);
      fd = -1;
    } else {
      // The kernel's name: it fills in a "%d" pattern or an empty name.
      memcpy(name, ifr.ifr_name, IFNAMSIZ);
      name[IFNAMSIZ - 1] = '\0';
      if (configure(f, name, mtu, up) < 0) {
        close(fd);
        fd = -1;
      }
    }
  }

  if (home >= 0) {
    if (setns(home, CLONE_NEWNET) < 0) {
      // This thread would go on in the wrong namespace, and every socket it
      // opened afterwards would be in it. Nothing sensible can follow.
      napi_fatal_error("tcpts tuntap", NAPI_AUTO_LENGTH,
                       "cannot return to the original network namespace", NAPI_AUTO_LENGTH);
    }
    close(home);
  }
  return fd;
}

// ---------------------------------------------------------------------------
// Lifetime

static void poll_closed(uv_handle_t *handle) {
  free(handle);
}

static void fd_closed(uv_fs_t *req) {
  uv_fs_req_cleanup(req);
  free(req);
}

// Stops polling and closes the descriptor; safe to call twice. With
// `in_background`, close(2) runs on libuv's thread pool: the last close of
// a TUN/TAP descriptor unregisters the device, which waits for the RTNL
// lock and RCU grace periods (tens of milliseconds on a busy host), and the
// event loop should not stall for that. The device then disappears shortly
// after close() returns rather than before.
static void device_shutdown(napi_env env, Device *d, int in_background) {
  if (d->poll != NULL) {
    d->poll->data = NULL;
    uv_poll_stop(d->poll);
    uv_close((uv_handle_t *)d->poll, poll_closed);
    d->poll = NULL;
  }
  if (d->events != 0) {
    d->events = 0;
    uint32_t count;
    if (d->self != NULL) napi_reference_unref(env, d->self, &count);
    if (d->callback != NULL) napi_reference_unref(env, d->callback, &count);
  }
  if (d->fd >= 0) {
    uv_loop_t *loop = NULL;
    uv_fs_t *req = NULL;
    if (in_background && napi_get_uv_event_loop(env, &loop) == napi_ok && loop != NULL)
      req = malloc(sizeof *req);
    if (req == NULL || uv_fs_close(loop, req, d->fd, fd_closed) < 0) {
      free(req);
      close(d->fd);
    }
    d->fd = -1;
  }
}

static void device_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  Device *d = data;
  // A finalizer may run while the environment is torn down: close here and now.
  device_shutdown(env, d, 0);
  if (d->callback != NULL) napi_delete_reference(env, d->callback);
  if (d->self != NULL) napi_delete_reference(env, d->self);
  if (d->async != NULL) napi_async_destroy(env, d->async);
  free(d);
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  Device *d = handle->data;
  if (d == NULL) return;
  napi_env env = d->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value self = NULL, callback = NULL, argv[1], result;
  napi_get_reference_value(env, d->self, &self);
  napi_get_reference_value(env, d->callback, &callback);
  if (self != NULL && callback != NULL) {
    int mask = 0;
    if (events & UV_READABLE) mask |= EVENT_READABLE;
    if (events & UV_WRITABLE) mask |= EVENT_WRITABLE;
    // An error from epoll goes to JavaScript as a negative errno; the next
    // read or write on the device reports what it is.
    napi_create_int32(env, status < 0 ? status : mask, &argv[0]);
    // make_callback (not call_function): this runs from the event loop, so
    // the microtask queue and process.nextTick run after it, as after I/O.
    napi_status s = napi_make_callback(env, d->async, self, callback, 1, argv, &result);
    if (s == napi_pending_exception) {
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error);
    }
  }
  napi_close_handle_scope(env, scope);
}

static Device *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  napi_get_cb_info(env, info, argc, argv, &self, NULL);
  Device *d = NULL;
  if (napi_unwrap(env, self, (void **)&d) != napi_ok || d == NULL) {
    throw_type(env, "tcpts tuntap: method called on something that is not a Device");
    return NULL;
  }
  return d;
}

static int closed_error(napi_env env, Device *d) {
  if (d->fd >= 0) return 0;
  Failure f;
  fail(&f, EBADF, NULL, "tcpts: the %s device is closed; open a new one", d->name);
  throw_failure(env, &f);
  return 1;
}

// ---------------------------------------------------------------------------
// Methods

// new Device(name, tap, mtu, up, netns, callback)
static napi_value device_new(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], self;
  napi_get_cb_info(env, info, &argc, argv, &self, NULL);
  if (argc < 6) return throw_type(env, "tcpts tuntap: Device(name, tap, mtu, up, netns, callback)");

  char name[IFNAMSIZ];
  size_t length = 0;
  if (napi_get_value_string_utf8(env, argv[0], NULL, 0, &length) != napi_ok)
    return throw_type(env, "tcpts tuntap: the device name must be a string");
  if (length >= IFNAMSIZ) {
    napi_throw_range_error(env, NULL,
                           "tcpts: an interface name has at most 15 bytes (IFNAMSIZ)");
    return NULL;
  }
  napi_get_value_string_utf8(env, argv[0], name, sizeof name, &length);
  bool tap = false, up = false;
  int32_t mtu = 0;
  if (napi_get_value_bool(env, argv[1], &tap) != napi_ok ||
      napi_get_value_int32(env, argv[2], &mtu) != napi_ok ||
      napi_get_value_bool(env, argv[3], &up) != napi_ok)
    return throw_type(env, "tcpts tuntap: tap and up must be booleans, mtu a number");

  napi_valuetype type;
  char netns[4096];
  const char *netnsPath = NULL;
  napi_typeof(env, argv[4], &type);
  if (type == napi_string) {
    if (napi_get_value_string_utf8(env, argv[4], netns, sizeof netns, &length) != napi_ok ||
        length >= sizeof netns - 1)
      return throw_type(env, "tcpts tuntap: netns must be a path shorter than 4095 bytes");
    netnsPath = netns;
  } else if (type != napi_null && type != napi_undefined) {
    return throw_type(env, "tcpts tuntap: netns must be a path or null");
  }
  napi_typeof(env, argv[5], &type);
  if (type != napi_function) return throw_type(env, "tcpts tuntap: callback must be a function");

  Failure f;
  int fd = open_device(&f, name, tap, mtu, up, netnsPath);
  if (fd < 0) {
    throw_failure(env, &f);
    return NULL;
  }

  Device *d = calloc(1, sizeof *d);
  if (d == NULL) {
    close(fd);
    napi_throw_error(env, "ENOMEM", "tcpts tuntap: out of memory");
    return NULL;
  }
  d->env = env;
  d->fd = fd;
  d->refed = 1;
  memcpy(d->name, name, IFNAMSIZ);
  if (napi_wrap(env, self, d, device_finalize, NULL, &d->self) != napi_ok) {
    close(fd);
    free(d);
    napi_throw_error(env, NULL, "tcpts tuntap: napi_wrap failed");
    return NULL;
  }
  napi_create_reference(env, argv[5], 0, &d->callback);
  napi_value resource_name;
  napi_create_string_utf8(env, "tcpts:tuntap", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, self, resource_name, &d->async);

  napi_value value;
  napi_create_int32(env, fd, &value);
  napi_set_named_property(env, self, "fd", value);
  napi_create_string_utf8(env, d->name, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, self, "name", value);
  return self;
}

static int typed_array(napi_env env, napi_value value, napi_typedarray_type want, void **data,
                       size_t *length) {
  bool is = false;
  napi_is_typedarray(env, value, &is);
  if (!is) return -1;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  napi_get_typedarray_info(env, value, &type, length, data, &buffer, &offset);
  return type == want ? 0 : -1;
}

// read(arena: Uint8Array, lengths: Int32Array, space: number): number
// Reads packets back to back into `arena` while at least `space` bytes are
// left there and `lengths` has room, until the device has no more (EAGAIN).
// A packet longer than `space` is truncated to it by the kernel, so the
// caller passes one byte more than the longest frame it accepts and drops
// any read that fills the whole space.
static napi_value device_read(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  Device *d = unwrap(env, info, &argc, argv);
  if (d == NULL || closed_error(env, d)) return NULL;
  uint8_t *arena;
  int32_t *lengths;
  size_t arenaLength, maxCount;
  int32_t space = 0;
  if (argc < 3 || typed_array(env, argv[0], napi_uint8_array, (void **)&arena, &arenaLength) < 0 ||
      typed_array(env, argv[1], napi_int32_array, (void **)&lengths, &maxCount) < 0 ||
      napi_get_value_int32(env, argv[2], &space) != napi_ok || space <= 0)
    return throw_type(env, "tcpts tuntap: read(arena: Uint8Array, lengths: Int32Array, space > 0)");

  size_t count = 0, offset = 0;
  while (count < maxCount && arenaLength - offset >= (size_t)space) {
    ssize_t n = read(d->fd, arena + offset, (size_t)space);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      // Report an error only when nothing was read: the packets already in
      // the arena are delivered, and the next call meets the error again.
      if (count == 0) {
        Failure f;
        fail(&f, errno, "read", "tcpts: reading from device '%s' failed: %s", d->name,
             strerror(errno));
        throw_failure(env, &f);
        return NULL;
      }
      break;
    }
    if (n == 0) break;
    lengths[count++] = (int32_t)n;
    offset += (size_t)n;
  }
  napi_value result;
  napi_create_uint32(env, (uint32_t)count, &result);
  return result;
}

// write(arena: Uint8Array, lengths: Int32Array, count: number,
//       errors: Int32Array): number
// Writes `count` packets laid back to back in `arena`, one write(2) each
// (a TUN/TAP write takes exactly one packet). Returns how many were
// consumed: written (errors[i] = 0), or refused by the kernel (errors[i] =
// errno, e.g. EINVAL for a TUN packet that is neither IPv4 nor IPv6, EIO for
// a device that is down). Stops early, without consuming, at EAGAIN or
// ENOBUFS: the caller keeps the rest and polls for writable.
static napi_value device_write(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  Device *d = unwrap(env, info, &argc, argv);
  if (d == NULL || closed_error(env, d)) return NULL;
  uint8_t *arena;
  int32_t *lengths, *errors;
  size_t arenaLength, maxCount, errorCount;
  int32_t count = 0;
  if (argc < 4 || typed_array(env, argv[0], napi_uint8_array, (void **)&arena, &arenaLength) < 0 ||
      typed_array(env, argv[1], napi_int32_array, (void **)&lengths, &maxCount) < 0 ||
      napi_get_value_int32(env, argv[2], &count) != napi_ok || count < 0 ||
      (size_t)count > maxCount ||
      typed_array(env, argv[3], napi_int32_array, (void **)&errors, &errorCount) < 0 ||
      errorCount < (size_t)count)
    return throw_type(env, "tcpts tuntap: write(arena: Uint8Array, lengths: Int32Array, count, "
                           "errors: Int32Array)");

  size_t offset = 0;
  int32_t i = 0;
  while (i < count) {
    int32_t length = lengths[i];
    if (length <= 0 || offset + (size_t)length > arenaLength) {
      napi_throw_range_error(env, NULL, "tcpts tuntap: a packet length lies outside the arena");
      return NULL;
    }
    ssize_t n = write(d->fd, arena + offset, (size_t)length);
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) break;
      errors[i] = err;
    } else {
      errors[i] = 0;
    }
    offset += (size_t)length;
    i++;
  }
  napi_value result;
  napi_create_int32(env, i, &result);
  return result;
}

// poll(events: number): which readiness to be told of (1 readable, 2
// writable, 0 none). While polling, the device and its callback stay alive.
static napi_value device_poll(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Device *d = unwrap(env, info, &argc, argv);
  if (d == NULL || closed_error(env, d)) return NULL;
  int32_t events = 0;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &events) != napi_ok || events < 0 ||
      events > 3)
    return throw_type(env, "tcpts tuntap: poll(events: 0..3)");
  if (events == d->events) return NULL;

  if (d->poll == NULL && events != 0) {
    uv_loop_t *loop;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
      napi_throw_error(env, NULL, "tcpts tuntap: no event loop");
      return NULL;
    }
    uv_poll_t *handle = calloc(1, sizeof *handle);
    if (handle == NULL) {
      napi_throw_error(env, "ENOMEM", "tcpts tuntap: out of memory");
      return NULL;
    }
    int r = uv_poll_init(loop, handle, d->fd);
    if (r < 0) {
      free(handle);
      Failure f;
      fail(&f, -r, "epoll_ctl", "tcpts: cannot watch device '%s': %s", d->name, uv_strerror(r));
      throw_failure(env, &f);
      return NULL;
    }
    handle->data = d;
    if (!d->refed) uv_unref((uv_handle_t *)handle);
    d->poll = handle;
  }
  uint32_t refs;
  if (events != 0) {
    int uv_events = 0;
    if (events & EVENT_READABLE) uv_events |= UV_READABLE;
    if (events & EVENT_WRITABLE) uv_events |= UV_WRITABLE;
    int r = uv_poll_start(d->poll, uv_events, on_poll);
    if (r < 0) {
      Failure f;
      fail(&f, -r, "epoll_ctl", "tcpts: cannot watch device '%s': %s", d->name, uv_strerror(r));
      throw_failure(env, &f);
      return NULL;
    }
    if (d->events == 0) {
      napi_reference_ref(env, d->self, &refs);
      napi_reference_ref(env, d->callback, &refs);
    }
  } else {
    uv_poll_stop(d->poll);
    napi_reference_unref(env, d->self, &refs);
    napi_reference_unref(env, d->callback, &refs);
  }
  d->events = events;
  return NULL;
}

// setRef(keepsLoopAlive: boolean): like socket.ref() / unref().
static napi_value device_set_ref(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Device *d = unwrap(env, info, &argc, argv);
  if (d == NULL) return NULL;
  bool ref = true;
  if (argc < 1 || napi_get_value_bool(env, argv[0], &ref) != napi_ok)
    return throw_type(env, "tcpts tuntap: setRef(boolean)");
  d->refed = ref;
  if (d->poll != NULL) {
    if (ref)
      uv_ref((uv_handle_t *)d->poll);
    else
      uv_unref((uv_handle_t *)d->poll);
  }
  return NULL;
}

// close(): stops polling and closes the descriptor (in the background, see
// device_shutdown); the kernel then removes a device that is not
// persistent. Closing twice is harmless.
static napi_value device_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Device *d = unwrap(env, info, &argc, NULL);
  if (d == NULL) return NULL;
  device_shutdown(env, d, 1);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"read", NULL, device_read, NULL, NULL, NULL, napi_default, NULL},
      {"write", NULL, device_write, NULL, NULL, NULL, napi_default, NULL},
      {"poll", NULL, device_poll, NULL, NULL, NULL, napi_default, NULL},
      {"setRef", NULL, device_set_ref, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, device_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls;
  napi_define_class(env, "Device", NAPI_AUTO_LENGTH, device_new, NULL,
                    sizeof methods / sizeof methods[0], methods, &cls);
  napi_set_named_property(env, exports, "Device", cls);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
