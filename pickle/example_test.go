package pickle_test

import (
	"fmt"

	"github.com/detflow/detflow/pickle"
)

func ExampleUnmarshal() {
	// pickle.dumps({"ids": [1, 2], "size": (640, 480)}, protocol=2)
	data := []byte("\x80\x02}q\x00(X\x03\x00\x00\x00idsq\x01]q\x02(K\x01K\x02eX\x04\x00\x00\x00sizeq\x03M\x80\x02M\xe0\x01\x86q\x04u.")
	v, err := pickle.Unmarshal(data, pickle.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	d := v.(*pickle.Dict)
	ids, _ := d.Get("ids")
	size, _ := d.Get("size")
	fmt.Println(ids, size)
	// Output: [1 2] [640 480]
}

func ExampleOptions_resolve() {
	// A Detectron2 proposals file names detectron2.structures.boxes.BoxMode;
	// accept it as an inert record instead of failing.
	opts := pickle.Options{Resolve: pickle.Classes("detectron2.structures.boxes.BoxMode")}
	data := []byte("\x80\x02cdetectron2.structures.boxes\nBoxMode\nK\x00\x85R.")
	v, err := pickle.Unmarshal(data, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	o := v.(*pickle.Object)
	fmt.Println(o.Class, o.Args[0])
	_, err = pickle.Unmarshal(data, pickle.Options{})
	fmt.Println(err)
	// Output:
	// detectron2.structures.boxes.BoxMode 0
	// pickle: unsupported global "detectron2.structures.boxes.BoxMode" at offset 2
}
