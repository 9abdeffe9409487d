/*
 * kdump's fast paths, compiled: walks over a reader's buffer of amd64-v1
 * records for the records whose output is known already.
 *
 * walk (kdump/lines.py) is the text views': per record, read the header,
 * make the record's key, look the line up in the view's dict, add the line
 * (with the record's sec, nsec and cpu where the view has them between two
 * parts), and move on.  The Python loop in lines.py (LineView.dump's walk) is
 * the reference and stays the path where this module is not built.
 *
 * units (analysis/units.py) is the analysis views': per *unit* (a thread's
 * call from CALL to RET, a CSW pair, a fault and its end, or a lone record,
 * contiguous in the file), make the unit's key (its records but for their
 * times, with the call's arguments that the views show no address of
 * blanked), look its template up, and hand back the template with the
 * unit's times for Python to replay.  The sinks' replays are here too:
 * replay_packets restamps a Perfetto template's packets, replay_rows adds a
 * table template's rows (analysis/perfetto.py, analysis/tables.py).
 *
 * Anything else (a record or unit not seen before, a dropped or versionless
 * record, a long payload, a record cut by the buffer's end) goes back to
 * Python at its offset, which takes it the general way and teaches the dict
 * under the same key.  So both paths make every output the same way.
 *
 * The buffer is a trace file's bytes: hostile.  Every offset is checked
 * against the buffer's size before it is read, the length field is taken as
 * signed and bounded, and nothing is written into the buffer.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* amd64-v1's header (ktrace.record.AMD64_V1, "<iHhi20sqqqi4x"): offsets */
enum {
	HEADER_SIZE = 64,
	LEN_AT = 0, TYPE_AT = 4, VERSION_AT = 6, KEY_HEAD_AT = 4, KEY_HEAD_LEN = 28,
	SEC_AT = 32, NSEC_AT = 40, TID_AT = 48, TID_LEN = 8, CPU_AT = 56, PID_AT = 8,
};

/* ktr_type: the record types a unit's shape depends on (ktrace.record's), and flags */
enum {
	SYSCALL = 1, SYSRET = 2, CSW = 6, PROCCTOR = 10, PROCDTOR = 11, FAULT = 13,
	FAULTEND = 14, KTR_DROP = 0x8000, KTR_VERSIONED = 0x4000, TYPE_MASK = 0x3fff,
};

static inline int32_t le32(const unsigned char *p) { int32_t v; memcpy(&v, p, 4); return v; }
static inline int16_t le16(const unsigned char *p) { int16_t v; memcpy(&v, p, 2); return v; }
static inline int64_t le64(const unsigned char *p) { int64_t v; memcpy(&v, p, 8); return v; }

/* The key of the record at p (its type to comm, its tid, its payload): the
   bytes lines.py's record_key makes. */
static PyObject *record_key(const unsigned char *p, Py_ssize_t length)
{
	PyObject *key = PyBytes_FromStringAndSize(NULL, KEY_HEAD_LEN + TID_LEN + length);
	char *k;

	if (key == NULL)
		return NULL;
	k = PyBytes_AS_STRING(key);
	memcpy(k, p + KEY_HEAD_AT, KEY_HEAD_LEN);
	memcpy(k + KEY_HEAD_LEN, p + TID_AT, TID_LEN);
	memcpy(k + KEY_HEAD_LEN + TID_LEN, p + HEADER_SIZE, length);
	return key;
}

/* n in decimal at the end of buf[24] (as Python's str(int)): its start */
static char *decimal(char *end, long long n)
{
	unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;

	do
		*--end = (char)('0' + u % 10);
	while (u /= 10);
	if (n < 0)
		*--end = '-';
	return end;
}

/* A known line with its stamp: before, the labelled sec, nsec and cpu, after
   (all ASCII, the usual case: copied into one new str; else formatted). */
static PyObject *stamped(PyObject *parts, PyObject *labels, const unsigned char *p)
{
	char digits[3][24], *num[3];
	Py_ssize_t numlen[3], total = 0;
	PyObject *piece[5];
	long long values[3] = {le64(p + SEC_AT), le64(p + NSEC_AT), le32(p + CPU_AT)};

	if (!PyTuple_CheckExact(parts) || PyTuple_GET_SIZE(parts) != 2 ||
	    !PyUnicode_Check(PyTuple_GET_ITEM(parts, 0)) ||
	    !PyUnicode_Check(PyTuple_GET_ITEM(parts, 1))) {
		PyErr_SetString(PyExc_TypeError, "a stamped line is a (before, after) pair of strs");
		return NULL;
	}
	piece[0] = PyTuple_GET_ITEM(parts, 0);
	piece[4] = PyTuple_GET_ITEM(parts, 1);
	for (int i = 0; i < 3; i++)
		piece[i + 1] = PyTuple_GET_ITEM(labels, i);
	int ascii = 1;
	for (int i = 0; i < 5; i++) {
		ascii &= PyUnicode_IS_ASCII(piece[i]);
		total += PyUnicode_GET_LENGTH(piece[i]);
	}
	if (!ascii)
		return PyUnicode_FromFormat("%U%U%lld%U%lld%U%d%U", piece[0], piece[1], values[0],
					    piece[2], values[1], piece[3], (int)values[2], piece[4]);
	for (int i = 0; i < 3; i++) {
		num[i] = decimal(digits[i] + sizeof digits[i], values[i]);
		numlen[i] = digits[i] + sizeof digits[i] - num[i];
		total += numlen[i];
	}
	PyObject *line = PyUnicode_New(total, 127);
	if (line == NULL)
		return NULL;
	char *out = (char *)PyUnicode_DATA(line);
	for (int i = 0; i < 5; i++) {
		Py_ssize_t n = PyUnicode_GET_LENGTH(piece[i]);

		memcpy(out, PyUnicode_DATA(piece[i]), n);
		out += n;
		if (i >= 1 && i <= 3) {         /* a label, then its number */
			memcpy(out, num[i - 1], numlen[i - 1]);
			out += numlen[i - 1];
		}
	}
	return line;
}

PyDoc_STRVAR(walk_doc,
"walk(buf, pos, known, labels, lines, every, flush_chars, held, cacheable, type_mask, versioned)\n"
"-> (pos, held, full, shown)\n\n"
"Add the known lines of the records of buf from pos to lines, until a record\n"
"Python must take (at pos) or, full, lines enough to write; see lines.py.");

static PyObject *walk(PyObject *self, PyObject *args)
{
	Py_buffer view;
	Py_ssize_t pos, every, flush_chars, held, cacheable;
	PyObject *known, *labels, *lines, *result = NULL;
	int type_mask, versioned, full = 0, shown = 0;

	if (!PyArg_ParseTuple(args, "y*nO!OO!nnnnii", &view, &pos, &PyDict_Type, &known, &labels,
			      &PyList_Type, &lines, &every, &flush_chars, &held, &cacheable,
			      &type_mask, &versioned))
		return NULL;
	if (labels != Py_None && (!PyTuple_CheckExact(labels) || PyTuple_GET_SIZE(labels) < 3 ||
				  !PyUnicode_Check(PyTuple_GET_ITEM(labels, 0)) ||
				  !PyUnicode_Check(PyTuple_GET_ITEM(labels, 1)) ||
				  !PyUnicode_Check(PyTuple_GET_ITEM(labels, 2)))) {
		PyErr_SetString(PyExc_TypeError, "labels: None or three strs");
		goto out;
	}
	const unsigned char *buf = view.buf;
	const Py_ssize_t size = view.len;

	while (pos >= 0 && size - pos >= HEADER_SIZE) {
		const unsigned char *p = buf + pos;
		const int32_t length = le32(p + LEN_AT);
		const int rtype = (uint16_t)le16(p + TYPE_AT);

		if (length < 0 || length > cacheable || size - pos - HEADER_SIZE < length ||
		    (rtype & type_mask) != versioned || le16(p + VERSION_AT) != 1)
			break;          /* Python's: a long, cut, dropped or older record */
		PyObject *key = record_key(p, length);
		if (key == NULL)
			goto out;
		PyObject *line = PyDict_GetItemWithError(known, key);    /* borrowed */
		Py_DECREF(key);
		if (line == NULL) {
			if (PyErr_Occurred())
				goto out;
			break;          /* Python's: a record not seen before */
		}
		pos += HEADER_SIZE + length;
		if (PyUnicode_Check(line) && PyUnicode_GET_LENGTH(line) == 0)
			continue;               /* a record the view does not show */
		PyObject *text = labels == Py_None ? Py_NewRef(line) : stamped(line, labels, p);
		if (text == NULL || !PyUnicode_Check(text)) {
			if (text != NULL) {
				Py_DECREF(text);
				PyErr_SetString(PyExc_TypeError, "a known line is a str");
			}
			goto out;
		}
		held += PyUnicode_GET_LENGTH(text);
		int failed = PyList_Append(lines, text);
		Py_DECREF(text);
		if (failed)
			goto out;
		shown = 1;
		if (PyList_GET_SIZE(lines) >= every || held >= flush_chars) {
			full = 1;
			break;
		}
	}
	result = Py_BuildValue("nnii", pos, held, full, shown);
out:
	PyBuffer_Release(&view);
	return result;
}

/* --- the analysis views' units --------------------------------------------- */

enum { MAX_UNIT = 16, ARGS_AT = 8, NS_PER_SEC = 1000000000 };

/* A unit: its records' offsets, payload lengths, types and times. */
struct unit {
	Py_ssize_t at[MAX_UNIT];
	int32_t length[MAX_UNIT];
	int type[MAX_UNIT];
	long long ns[MAX_UNIT];
	int n;
	Py_ssize_t end;
};

/* The payload length of a record a unit may hold at pos (whole in the buffer,
   v1, not dropped, at most cacheable bytes of payload), else -1. */
static int32_t plain_record(const unsigned char *buf, Py_ssize_t size, Py_ssize_t pos,
			    Py_ssize_t cacheable)
{
	if (pos < 0 || size - pos < HEADER_SIZE)
		return -1;
	const unsigned char *p = buf + pos;
	const int32_t length = le32(p + LEN_AT);
	const int rtype = (uint16_t)le16(p + TYPE_AT);

	if (length < 0 || length > cacheable || size - pos - HEADER_SIZE < length ||
	    (rtype & (KTR_DROP | KTR_VERSIONED)) != KTR_VERSIONED || le16(p + VERSION_AT) != 1)
		return -1;
	return length;
}

/* The type a unit begun by the record at p ends with (0: the record is the
   unit): a call's RET, a switch out's switch in, a fault's end. */
static int closing_type(const unsigned char *p, int32_t length)
{
	switch ((uint16_t)le16(p + TYPE_AT) & TYPE_MASK) {
	case SYSCALL:
		return SYSRET;
	case FAULT:
		return FAULTEND;
	case CSW:       /* ktr_csw's out comes first: only a switch out opens a wait */
		return length >= 4 && le32(p + HEADER_SIZE) != 0 ? CSW : 0;
	default:
		return 0;
	}
}

/* The unit at pos into u: 1, or 0 where none begins there.  Its records are of
   one thread (pid and tid), with nothing of another thread between them; a
   call's may hold any records but another call and a process's birth or end
   (a call that never returns, as exit's, makes none).  Their times are
   nanoseconds from 0 to INT64_MAX (the model's range) that never go back. */
static int unit_at(const unsigned char *buf, Py_ssize_t size, Py_ssize_t pos,
		   Py_ssize_t cacheable, struct unit *u)
{
	int closer = 0;

	for (int i = 0; i < MAX_UNIT; i++) {
		const int32_t length = plain_record(buf, size, pos, cacheable);

		if (length < 0)
			return 0;
		const unsigned char *p = buf + pos;
		const int rtype = (uint16_t)le16(p + TYPE_AT) & TYPE_MASK;
		long long ns;

		if (rtype == PROCCTOR || rtype == PROCDTOR ||
		    __builtin_mul_overflow(le64(p + SEC_AT), (long long)NS_PER_SEC, &ns) ||
		    __builtin_add_overflow(ns, le64(p + NSEC_AT), &ns) ||
		    ns < 0 || (i > 0 && ns < u->ns[i - 1]))
			return 0;       /* a time the model clamps, or one that goes back */
		if (i > 0 && (memcmp(p + PID_AT, buf + u->at[0] + PID_AT, 4) != 0 ||
			      memcmp(p + TID_AT, buf + u->at[0] + TID_AT, TID_LEN) != 0))
			return 0;
		u->at[i] = pos;
		u->length[i] = length;
		u->type[i] = rtype;
		u->ns[i] = ns;
		pos += HEADER_SIZE + length;
		if (i == 0) {
			closer = closing_type(p, length);
			if (closer == 0)
				break;
		} else if (rtype == closer) {
			u->n = i + 1;
			u->end = pos;
			return 1;
		} else if (closer != SYSRET || rtype == SYSCALL) {
			return 0;
		}
	}
	if (closer != 0)
		return 0;       /* no end within MAX_UNIT records */
	u->n = 1;
	u->end = pos;
	return 1;
}

/* Blank in key (a call unit's, its CALL's payload at payload) the arguments
   masks says the views never show the address of: (index, record type) pairs
   for the call's number, applied where the argument is not NULL and the unit
   has a record of that type (analysis/calltext.py's likely-unseen rule). */
static int blank_unseen(char *payload, const struct unit *u, PyObject *masks)
{
	if (u->length[0] < ARGS_AT)
		return 0;
	PyObject *code = PyLong_FromLong(le16((const unsigned char *)payload));
	if (code == NULL)
		return -1;
	PyObject *mask = PyDict_GetItemWithError(masks, code);     /* borrowed */
	Py_DECREF(code);
	if (mask == NULL)
		return PyErr_Occurred() ? -1 : 0;
	if (!PyTuple_Check(mask))
		goto bad;
	const int narg = le16((const unsigned char *)payload + 2);
	for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(mask); k++) {
		PyObject *pair = PyTuple_GET_ITEM(mask, k);
		if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2)
			goto bad;
		const long i = PyLong_AsLong(PyTuple_GET_ITEM(pair, 0));
		const long rtype = PyLong_AsLong(PyTuple_GET_ITEM(pair, 1));
		if (PyErr_Occurred())
			return -1;
		const long at = ARGS_AT + 8 * i;
		if (i < 0 || i >= narg || at + 8 > u->length[0] ||
		    le64((const unsigned char *)payload + at) == 0)
			continue;
		for (int j = 1; j < u->n; j++) {
			if (u->type[j] == rtype) {
				memset(payload + at, 0, 8);
				break;
			}
		}
	}
	return 0;
bad:
	PyErr_SetString(PyExc_TypeError, "a mask is a tuple of (index, record type) pairs");
	return -1;
}

/* The unit's key: each record's header but for its times and cpu (as
   record_key), then its payload; a call's unseen arguments blanked. */
static PyObject *unit_key(const unsigned char *buf, const struct unit *u, PyObject *masks)
{
	Py_ssize_t total = 0;

	for (int i = 0; i < u->n; i++)
		total += KEY_HEAD_AT + KEY_HEAD_LEN + TID_LEN + u->length[i];
	PyObject *key = PyBytes_FromStringAndSize(NULL, total);
	if (key == NULL)
		return NULL;
	char *k = PyBytes_AS_STRING(key), *call_payload = NULL;
	for (int i = 0; i < u->n; i++) {
		const unsigned char *p = buf + u->at[i];

		memcpy(k, p, KEY_HEAD_AT + KEY_HEAD_LEN);      /* its length too */
		k += KEY_HEAD_AT + KEY_HEAD_LEN;
		memcpy(k, p + TID_AT, TID_LEN);
		k += TID_LEN;
		if (i == 0)
			call_payload = k;
		memcpy(k, p + HEADER_SIZE, u->length[i]);
		k += u->length[i];
	}
	if (u->type[0] == SYSCALL && blank_unseen(call_payload, u, masks) < 0) {
		Py_DECREF(key);
		return NULL;
	}
	return key;
}

/* (template, pos, ns of each record): a known unit for Python to replay */
static PyObject *hit(PyObject *template, const struct unit *u)
{
	PyObject *found = PyTuple_New(2 + u->n);

	if (found == NULL)
		return NULL;
	PyTuple_SET_ITEM(found, 0, Py_NewRef(template));
	for (int i = -1; i < u->n; i++) {
		PyObject *v = i < 0 ? PyLong_FromSsize_t(u->at[0]) : PyLong_FromLongLong(u->ns[i]);
		if (v == NULL) {
			Py_DECREF(found);
			return NULL;
		}
		PyTuple_SET_ITEM(found, 2 + i, v);
	}
	return found;
}

PyDoc_STRVAR(units_doc,
"units(buf, pos, known, masks, hits, most, cacheable) -> (pos, n)\n\n"
"Add to hits a (template, pos, ns...) tuple for each unit of buf from pos whose\n"
"key known has, until one it has not (n: its records), a record that begins\n"
"no unit (n = 0) or most hits; see analysis/units.py.");

static PyObject *units(PyObject *self, PyObject *args)
{
	Py_buffer view;
	Py_ssize_t pos, most, cacheable;
	PyObject *known, *masks, *hits, *result = NULL;
	struct unit u;
	int unknown = 0;

	if (!PyArg_ParseTuple(args, "y*nO!O!O!nn", &view, &pos, &PyDict_Type, &known,
			      &PyDict_Type, &masks, &PyList_Type, &hits, &most, &cacheable))
		return NULL;
	while (PyList_GET_SIZE(hits) < most && unit_at(view.buf, view.len, pos, cacheable, &u)) {
		PyObject *key = unit_key(view.buf, &u, masks);
		if (key == NULL)
			goto out;
		PyObject *template = PyDict_GetItemWithError(known, key);    /* borrowed */
		Py_DECREF(key);
		if (template == NULL) {
			if (PyErr_Occurred())
				goto out;
			unknown = u.n;
			break;
		}
		PyObject *found = hit(template, &u);
		if (found == NULL)
			goto out;
		int failed = PyList_Append(hits, found);
		Py_DECREF(found);
		if (failed)
			goto out;
		pos = u.end;
	}
	result = Py_BuildValue("ni", pos, unknown);
out:
	PyBuffer_Release(&view);
	return result;
}

PyDoc_STRVAR(key_doc,
"unit_key(buf, pos, masks, cacheable) -> (key, n) or None\n\n"
"The key of the unit at pos and its number of records, as units makes them.");

static PyObject *key_of_unit(PyObject *self, PyObject *args)
{
	Py_buffer view;
	Py_ssize_t pos, cacheable;
	PyObject *masks, *result = NULL;
	struct unit u;

	if (!PyArg_ParseTuple(args, "y*nO!n", &view, &pos, &PyDict_Type, &masks, &cacheable))
		return NULL;
	if (!unit_at(view.buf, view.len, pos, cacheable, &u)) {
		result = Py_NewRef(Py_None);
	} else {
		PyObject *key = unit_key(view.buf, &u, masks);
		if (key != NULL)
			result = Py_BuildValue("Ni", key, u.n);
	}
	PyBuffer_Release(&view);
	return result;
}

/* n as a protobuf varint (a negative as its 64-bit two's complement) at out:
   its length */
static int put_varint(unsigned char *out, unsigned long long n)
{
	int i = 0;

	while (n >= 0x80) {
		out[i++] = (unsigned char)(n | 0x80);
		n >>= 7;
	}
	out[i++] = (unsigned char)n;
	return i;
}

PyDoc_STRVAR(packets_doc,
"replay_packets(out, packet_key, ts_key, packets, hit, last) -> last\n\n"
"Append to the bytearray out, for each (index, rest) of packets, a\n"
"length-delimited packet_key field holding ts_key, the varint of hit[index]\n"
"(or of last if later: time never goes back), then rest; the latest time\n"
"written.  See analysis/perfetto.py.");

static PyObject *replay_packets(PyObject *self, PyObject *args)
{
	PyObject *out, *packets, *hit, *result = NULL;
	Py_buffer packet_key, ts_key;
	long long last;

	if (!PyArg_ParseTuple(args, "O!y*y*O!O!L", &PyByteArray_Type, &out, &packet_key,
			      &ts_key, &PyTuple_Type, &packets, &PyTuple_Type, &hit, &last))
		return NULL;
	for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(packets); k++) {
		PyObject *packet = PyTuple_GET_ITEM(packets, k);
		if (!PyTuple_Check(packet) || PyTuple_GET_SIZE(packet) != 2 ||
		    !PyBytes_Check(PyTuple_GET_ITEM(packet, 1))) {
			PyErr_SetString(PyExc_TypeError, "a packet is an (index, bytes) pair");
			goto out;
		}
		const Py_ssize_t at = PyLong_AsSsize_t(PyTuple_GET_ITEM(packet, 0));
		if (at < 0 || at >= PyTuple_GET_SIZE(hit)) {
			if (!PyErr_Occurred())
				PyErr_SetString(PyExc_IndexError, "a packet's time is not in the hit");
			goto out;
		}
		long long ts = PyLong_AsLongLong(PyTuple_GET_ITEM(hit, at));
		if (ts == -1 && PyErr_Occurred())
			goto out;
		if (ts < last)
			ts = last;
		last = ts;
		PyObject *rest = PyTuple_GET_ITEM(packet, 1);
		unsigned char stamp[10], size[10];
		const int stamp_len = put_varint(stamp, (unsigned long long)ts);
		const Py_ssize_t body = ts_key.len + stamp_len + PyBytes_GET_SIZE(rest);
		const int size_len = put_varint(size, (unsigned long long)body);
		const Py_ssize_t old = PyByteArray_GET_SIZE(out);
		if (PyByteArray_Resize(out, old + packet_key.len + size_len + body) < 0)
			goto out;
		unsigned char *w = (unsigned char *)PyByteArray_AS_STRING(out) + old;
		memcpy(w, packet_key.buf, packet_key.len);
		w += packet_key.len;
		memcpy(w, size, size_len);
		w += size_len;
		memcpy(w, ts_key.buf, ts_key.len);
		w += ts_key.len;
		memcpy(w, stamp, stamp_len);
		w += stamp_len;
		memcpy(w, PyBytes_AS_STRING(rest), PyBytes_GET_SIZE(rest));
	}
	result = PyLong_FromLongLong(last);
out:
	PyBuffer_Release(&packet_key);
	PyBuffer_Release(&ts_key);
	return result;
}

/* Append n bytes to the bytearray b. */
static int append_bytes(PyObject *b, const void *data, Py_ssize_t n)
{
	const Py_ssize_t old = PyByteArray_GET_SIZE(b);

	if (PyByteArray_Resize(b, old + n) < 0)
		return -1;
	memcpy(PyByteArray_AS_STRING(b) + old, data, n);
	return 0;
}

static int is_bytearray_or_none(PyObject *o)
{
	return o == Py_None || PyByteArray_CheckExact(o);
}

/* One replayed row (see replay_rows): 0, or -1 with an exception set. */
static int replay_row(PyObject *entry, PyObject *hit, const Py_buffer *buf, Py_ssize_t args_at)
{
	PyObject *state, *shape, *ids, *starts, *durations, *values, *offsets;
	Py_ssize_t start_at, end_at, raw_count;

	if (!PyTuple_Check(entry) ||
	    !PyArg_ParseTuple(entry, "O!O!O!O!OOOnnn", &PyList_Type, &state, &PyList_Type, &shape,
			      &PyByteArray_Type, &ids, &PyByteArray_Type, &starts, &durations,
			      &values, &offsets, &start_at, &end_at, &raw_count))
		goto bad;
	if (PyList_GET_SIZE(state) != 2 || !PyList_CheckExact(PyList_GET_ITEM(state, 1)) ||
	    PyList_GET_SIZE(shape) != 3 || !is_bytearray_or_none(durations) ||
	    !is_bytearray_or_none(values) || !is_bytearray_or_none(offsets) ||
	    start_at < 2 || start_at >= PyTuple_GET_SIZE(hit) ||
	    (durations != Py_None && (end_at < 2 || end_at >= PyTuple_GET_SIZE(hit))) ||
	    raw_count < 0 || (raw_count > 0 && (values == Py_None || offsets == Py_None)))
		goto bad;
	/* the shape: in this batch's shapes once (state: [generation, shapes];
	   shape: [row, its batch's generation, its index there]) */
	PyObject *generation = PyList_GET_ITEM(state, 0);
	int same = PyObject_RichCompareBool(PyList_GET_ITEM(shape, 1), generation, Py_EQ);
	if (same < 0)
		return -1;
	if (!same) {
		PyObject *shapes = PyList_GET_ITEM(state, 1);
		PyObject *index = PyLong_FromSsize_t(PyList_GET_SIZE(shapes));
		if (index == NULL || PyList_Append(shapes, PyList_GET_ITEM(shape, 0)) < 0) {
			Py_XDECREF(index);
			return -1;
		}
		PyList_SetItem(shape, 2, index);                        /* steals index */
		PyList_SetItem(shape, 1, Py_NewRef(generation));
	}
	const long index = PyLong_AsLong(PyList_GET_ITEM(shape, 2));
	const long long start = PyLong_AsLongLong(PyTuple_GET_ITEM(hit, start_at));
	const long long end = durations == Py_None ? start :
		PyLong_AsLongLong(PyTuple_GET_ITEM(hit, end_at));
	const Py_ssize_t at = PyLong_AsSsize_t(PyTuple_GET_ITEM(hit, 1));
	if (PyErr_Occurred())
		return -1;
	if (index < 0 || index > INT32_MAX)
		goto bad;
	const int32_t id = (int32_t)index;
	const long long duration = end - start;      /* the walk's times never go back */
	if (append_bytes(ids, &id, sizeof id) < 0 || append_bytes(starts, &start, sizeof start) < 0 ||
	    (durations != Py_None && append_bytes(durations, &duration, sizeof duration) < 0))
		return -1;
	if (offsets == Py_None)
		return 0;
	if (raw_count > 0) {
		if (at < 0 || args_at < 0 || at > buf->len - args_at ||
		    raw_count > (buf->len - at - args_at) / 8)
			goto bad;
		if (append_bytes(values, (const char *)buf->buf + at + args_at, raw_count * 8) < 0)
			return -1;
	}
	if (values == Py_None)
		goto bad;
	const Py_ssize_t count = PyByteArray_GET_SIZE(values) / 8;
	if (count > INT32_MAX)
		goto bad;
	const int32_t offset = (int32_t)count;
	return append_bytes(offsets, &offset, sizeof offset);
bad:
	if (!PyErr_Occurred())
		PyErr_SetString(PyExc_ValueError, "not a row of a template (analysis/tables.py)");
	return -1;
}

PyDoc_STRVAR(rows_doc,
"replay_rows(entries, hit, buf, args_at, full) -> bool\n\n"
"For each entry (state, shape, ids, starts, durations, raw_values, raw_offsets,\n"
"start_at, end_at, raw_count) of a table sink's template, add a row as\n"
"tables.Rows keeps them: its shape's index in the batch (the shape added to\n"
"it first if new), its time hit[start_at] and duration hit[end_at] - time,\n"
"raw_count raw arguments read at hit[1] + args_at in buf.  True when a table\n"
"has full rows (ids of that many bytes).  See analysis/tables.py.");

static PyObject *replay_rows(PyObject *self, PyObject *args)
{
	PyObject *entries, *hit;
	Py_buffer buf;
	Py_ssize_t args_at, full;
	int reached = 0;

	if (!PyArg_ParseTuple(args, "O!O!y*nn", &PyTuple_Type, &entries, &PyTuple_Type, &hit,
			      &buf, &args_at, &full))
		return NULL;
	for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(entries); k++) {
		PyObject *entry = PyTuple_GET_ITEM(entries, k);
		if (replay_row(entry, hit, &buf, args_at) < 0) {
			PyBuffer_Release(&buf);
			return NULL;
		}
		reached |= PyByteArray_GET_SIZE(PyTuple_GET_ITEM(entry, 2)) >= full;
	}
	PyBuffer_Release(&buf);
	return PyBool_FromLong(reached);
}

static PyMethodDef methods[] = {
	{"walk", walk, METH_VARARGS, walk_doc},
	{"units", units, METH_VARARGS, units_doc},
	{"unit_key", key_of_unit, METH_VARARGS, key_doc},
	{"replay_packets", replay_packets, METH_VARARGS, packets_doc},
	{"replay_rows", replay_rows, METH_VARARGS, rows_doc},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
	PyModuleDef_HEAD_INIT, "ktrace.kdump._fastwalk",
	"kdump's fast paths over a buffer of amd64-v1 records (see lines.py, analysis/units.py).",
	-1, methods,
};

PyMODINIT_FUNC PyInit__fastwalk(void)
{
	PyObject *m = PyModule_Create(&module);

	if (m == NULL)
		return NULL;
	if (PyModule_AddIntConstant(m, "HEADER_SIZE", HEADER_SIZE) ||
	    PyModule_AddIntConstant(m, "KEY_HEAD_AT", KEY_HEAD_AT) ||
	    PyModule_AddIntConstant(m, "KEY_HEAD_LEN", KEY_HEAD_LEN) ||
	    PyModule_AddIntConstant(m, "TID_AT", TID_AT) ||
	    PyModule_AddIntConstant(m, "TID_LEN", TID_LEN) ||
	    PyModule_AddIntConstant(m, "MAX_UNIT", MAX_UNIT)) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
