/*
 * kdump's fast path, compiled: the walk of kdump/lines.py over a reader's
 * buffer of amd64-v1 records, for the records whose line is known already.
 *
 * The Python loop in lines.py (LineView.dump's walk) is the reference and
 * stays the path where this module is not built.  This one does the part of
 * it that runs once per record of a repetitive trace: read the header, make
 * the record's key, look the line up in the view's dict, add the line (with
 * the record's sec, nsec and cpu where the view has them between two parts),
 * and move on.  Anything else (a record not seen before, a dropped or
 * versionless one, a long payload, a record cut by the buffer's end) goes
 * back to Python at its offset, which makes the line and teaches it to the
 * dict under the same key.  So both paths make every line the same way.
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
	SEC_AT = 32, NSEC_AT = 40, TID_AT = 48, TID_LEN = 8, CPU_AT = 56,
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

static PyMethodDef methods[] = {
	{"walk", walk, METH_VARARGS, walk_doc},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
	PyModuleDef_HEAD_INIT, "ktrace.kdump._fastwalk",
	"kdump's fast path over a buffer of amd64-v1 records (see lines.py).", -1, methods,
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
	    PyModule_AddIntConstant(m, "TID_LEN", TID_LEN)) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
